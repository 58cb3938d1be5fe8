package search

import "strings"

// Counter turns a document's stored tokens into what ranking needs — each field's length and
// how often each token of the match occurs in it — without splitting the text or keeping the
// tokens: a store calls Count for every field of every candidate it reads. Create one per
// Candidates call with NewCounter; it is not safe for concurrent use.
type Counter struct {
	tokens []string
	slab   []int32 // frequencies of candidates still to come
}

// NewCounter returns a counter for the tokens of m.
func NewCounter(m Match) *Counter {
	return &Counter{tokens: m.Tokens()}
}

// Count records field f of c from text, the field's tokens separated by single spaces (as
// stores keep them).
func (ct *Counter) Count(c *Candidate, f Field, text string) {
	n := 0
	freq := ct.freqOf(c)
	for text != "" {
		tok := text
		if i := strings.IndexByte(text, ' '); i >= 0 {
			tok, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		if tok == "" {
			continue
		}
		n++
		for i, want := range ct.tokens {
			if want == tok {
				freq[i*int(NumFields)+int(f)]++
			}
		}
	}
	c.Len[f] = n
}

// countTokens is Count for a token list.
func (ct *Counter) countTokens(c *Candidate, f Field, toks []string) {
	freq := ct.freqOf(c)
	for _, tok := range toks {
		for i, want := range ct.tokens {
			if want == tok {
				freq[i*int(NumFields)+int(f)]++
			}
		}
	}
	c.Len[f] = len(toks)
}

// freqOf returns c.Freq, giving it zeroed room for every token first: candidates share
// slabs so a window of fifty costs one allocation, not fifty.
func (ct *Counter) freqOf(c *Candidate) []int32 {
	if c.Freq != nil || len(ct.tokens) == 0 {
		return c.Freq
	}
	n := len(ct.tokens) * int(NumFields)
	if len(ct.slab) < n {
		ct.slab = make([]int32, 64*n)
	}
	c.Freq, ct.slab = ct.slab[:n:n], ct.slab[n:]
	return c.Freq
}
