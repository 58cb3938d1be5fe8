package disk

import (
	"errors"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/freelylive/freely/internal/blob"
)

// FuzzValidateKey checks that every accepted key is clean, relative and stays inside the
// store directory, and that refusals are always ErrInvalidKey.
func FuzzValidateKey(f *testing.F) {
	for _, seed := range []string{
		"avatars/12/3f9a.png", "a", "a/b/c", "../x", "a/../b", "a//b", "/a", "a/", ".", "..", "a\\b",
		"a\x00", "한글", "a/./b", "...", ".a/b", "a.b/c.d", strings.Repeat("x/", 200),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := ValidateKey(key)
		if err != nil {
			if !errors.Is(err, blob.ErrInvalidKey) {
				t.Fatalf("ValidateKey(%q) = %v, not ErrInvalidKey", key, err)
			}
			return
		}
		if path.Clean(key) != key || path.IsAbs(key) || strings.HasPrefix(key, "..") || len(key) > maxKeyLen {
			t.Fatalf("accepted unclean key %q", key)
		}
		dir := "/srv/media/objects"
		if joined := filepath.Join(dir, key); !strings.HasPrefix(joined, dir+"/") {
			t.Fatalf("key %q escapes the directory: %s", key, joined)
		}
	})
}

func TestValidatePrefix(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "a", "a/", "a/b", "img/1", "a/.", "a/.hidden"} {
		if err := validatePrefix(ok); err != nil {
			t.Errorf("validatePrefix(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"/", "/a", "..", "a/../", "a//", "./a", "a/./b", "a b", "a\\b"} {
		if err := validatePrefix(bad); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("validatePrefix(%q) = %v", bad, err)
		}
	}
}
