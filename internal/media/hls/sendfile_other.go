//go:build !linux

package hls

import "os"

type fileBacking struct{}

func attachFile(*object) {}

func (o *object) open() *os.File { return nil }
