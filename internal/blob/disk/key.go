package disk

import (
	"fmt"
	"strings"

	"github.com/freelylive/freely/internal/blob"
)

// maxKeyLen is the longest key accepted, as blob.ErrInvalidKey documents.
const maxKeyLen = 512

// maxSegmentLen is the longest segment between slashes: the file-name limit of common
// filesystems (NAME_MAX). Keys the platform makes have short segments; the limit only turns
// a filesystem error into a clear one.
const maxSegmentLen = 255

// ValidateKey returns blob.ErrInvalidKey (wrapped with the reason) unless key is a clean,
// relative, slash-separated path of [A-Za-z0-9._-] segments: no "..", no empty or "."
// segments, no leading or trailing slash, and (a limit of the disk) no segment longer than 255
// bytes. Keys that would name the same file two ways
// ("a//b", "a/./b") are refused so that every backend maps a key to exactly one object.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", blob.ErrInvalidKey)
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("%w: longer than %d bytes", blob.ErrInvalidKey, maxKeyLen)
	}
	if err := checkChars(key); err != nil {
		return err
	}
	if strings.Contains(key, "..") {
		return fmt.Errorf("%w: %q contains \"..\"", blob.ErrInvalidKey, key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." {
			return fmt.Errorf("%w: %q has an empty or \".\" segment", blob.ErrInvalidKey, key)
		}
		if len(seg) > maxSegmentLen {
			return fmt.Errorf("%w: a segment is longer than %d bytes", blob.ErrInvalidKey, maxSegmentLen)
		}
	}
	return nil
}

// validatePrefix checks a List prefix: the characters of a key, no "..", and no "./"-style
// segments; it may be empty and may end in "/" or in the middle of a segment.
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if len(prefix) > maxKeyLen {
		return fmt.Errorf("%w: prefix longer than %d bytes", blob.ErrInvalidKey, maxKeyLen)
	}
	if err := checkChars(prefix); err != nil {
		return err
	}
	if strings.Contains(prefix, "..") || strings.HasPrefix(prefix, "/") || strings.Contains(prefix, "//") {
		return fmt.Errorf("%w: prefix %q", blob.ErrInvalidKey, prefix)
	}
	segs := strings.Split(prefix, "/")
	for _, seg := range segs[:len(segs)-1] { // the last segment may be partial
		if seg == "." {
			return fmt.Errorf("%w: prefix %q has a \".\" segment", blob.ErrInvalidKey, prefix)
		}
	}
	return nil
}

func checkChars(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-', c == '/':
		default:
			return fmt.Errorf("%w: %q holds the byte %#02x (allowed: A-Z a-z 0-9 . _ - /)", blob.ErrInvalidKey, s, c)
		}
	}
	return nil
}
