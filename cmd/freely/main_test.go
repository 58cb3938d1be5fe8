package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func runCmd(t *testing.T, environ []string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), args, &stdout, &stderr, environ)
	return stdout.String(), stderr.String(), err
}

func TestConfigCommandPrintsMaskedEffectiveConfig(t *testing.T) {
	t.Parallel()
	env := []string{"FREELY_SMTP_PASSWORD=hunter2-smtp", "FREELY_SMTP_HOST=mail.example.com", "FREELY_SMTP_USERNAME=u"}
	for _, args := range [][]string{
		{"config", "--addr", "127.0.0.1:9999", "--log-format", "json"},
		{"serve", "--print-config", "--addr", "127.0.0.1:9999", "--log-format", "json"},
	} {
		out, _, err := runCmd(t, env, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		for _, want := range []string{`addr: 127.0.0.1:9999`, "format: json", "host: mail.example.com", "password: '********'"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v output lacks %q:\n%s", args, want, out)
			}
		}
		if strings.Contains(out, "hunter2") {
			t.Errorf("%v printed a secret", args)
		}
	}
}

func TestCommandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"config", "--log-level", "loud"}, "log.level"},
		{[]string{"config", "stray"}, `unexpected argument "stray"`},
		{[]string{"config", "--no-such-flag"}, "flag provided but not defined"},
		{[]string{"serve", "--set", "http.adr=:1"}, `unknown configuration key "http.adr"`},
	}
	for _, tt := range tests {
		_, _, err := runCmd(t, nil, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
	_, stderr, err := runCmd(t, nil)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr, "serve") || !strings.Contains(stderr, "version") {
		t.Errorf("no arguments: %v, usage %q", err, stderr)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, _, err := runCmd(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "freely dev (") {
		t.Errorf("version: %q %v", out, err)
	}
}

// The built binary starts on a fresh data directory, answers /healthz and exits cleanly on
// SIGTERM.
func TestBinaryServesAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "freely")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dataDir := t.TempDir()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "json")
	cmd.Env = []string{"HOME=" + t.TempDir()}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// Wait for the start-up line, which names the address the kernel picked.
	var logs bytes.Buffer
	lines := bufio.NewScanner(stderr)
	var addr string
	for addr == "" && lines.Scan() {
		logs.WriteString(lines.Text() + "\n")
		var rec struct{ Msg, HTTP string }
		if json.Unmarshal(lines.Bytes(), &rec) == nil && rec.Msg == "freely started" {
			addr = rec.HTTP
		}
	}
	if addr == "" {
		t.Fatalf("server never started; logs:\n%s", logs.String())
	}
	rest := make(chan struct{})
	go func() {
		defer close(rest)
		io.Copy(&logs, stderr)
	}()

	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("/healthz = %d %q", resp.StatusCode, body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-rest // all output read before Wait closes the pipe
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v; logs:\n%s", err, logs.String())
	}
	for _, want := range []string{`"msg":"freely started"`, `"msg":"stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
	for _, f := range []string{"freely.db", "secret.key"} {
		if _, err := os.Stat(filepath.Join(dataDir, f)); err != nil {
			t.Errorf("data dir: %v", err)
		}
	}
}
