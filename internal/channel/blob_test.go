package channel_test

import (
	"testing"

	"github.com/freelylive/freely/internal/blob/disk"
)

// diskBlob is the real local-directory blob store in the test's temp dir.
func diskBlob(t *testing.T) *disk.Store {
	t.Helper()
	b, err := disk.New(disk.Options{Dir: t.TempDir(), URLPrefix: "/media/"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
