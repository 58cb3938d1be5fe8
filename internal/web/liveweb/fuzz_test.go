package liveweb_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/freelylive/freely/internal/web/liveweb"
)

// FuzzSplitTags feeds the dashboard's tags field: splitting never panics, drops nothing but
// separators and space, and never returns an empty or untrimmed tag.
func FuzzSplitTags(f *testing.F) {
	for _, seed := range []string{"롤, 랭크", "#롤 #랭크", "", ",,,", "a，b\nc＃d", " #\t# ", strings.Repeat("태그,", 50), "\xff\xfe,x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		tags := liveweb.SplitTags(in)
		for _, tag := range tags {
			if tag == "" || strings.TrimSpace(tag) != tag {
				t.Fatalf("SplitTags(%q) returned %q", in, tag)
			}
			if strings.ContainsAny(tag, ",#＃，\n") {
				t.Fatalf("SplitTags(%q) left a separator in %q", in, tag)
			}
			if utf8.ValidString(in) && !strings.Contains(in, tag) {
				t.Fatalf("SplitTags(%q) made up %q", in, tag)
			}
		}
	})
}
