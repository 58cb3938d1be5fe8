package main

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressReporter draws a progress bar when out is a terminal and stays quiet otherwise, so
// logs and CI output are not filled with control characters. Long one-shot commands (demo,
// reindex) report through it.
type progressReporter struct {
	bar         *progressbar.ProgressBar
	out         io.Writer
	description string
}

func newProgress(out io.Writer, description string) *progressReporter {
	f, ok := out.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &progressReporter{}
	}
	return &progressReporter{out: out, description: description}
}

func (p *progressReporter) update(done, total int) {
	if p.out == nil {
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.out),
			progressbar.OptionSetDescription(p.description),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set(done)
}

func (p *progressReporter) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.out)
	}
}
