package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func init() {
	register(command{name: "version", summary: "print the version", run: runVersion})
}

func runVersion(ctx context.Context, inv invocation) error {
	fs := newFlagSet("version", inv)
	if err := parse(fs, inv.args); err != nil {
		return err
	}
	_, err := fmt.Fprintf(inv.stdout, "freely %s (%s, %s)\n", version, revision(), runtime.Version())
	return err
}

// revision is the VCS commit the binary was built from, as the Go tool records it.
func revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown commit"
	}
	rev, dirty := "unknown commit", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
			if len(rev) > 12 {
				rev = rev[:12]
			}
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty {
		rev += "+changes"
	}
	return rev
}
