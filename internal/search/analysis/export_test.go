package analysis

// TermsNow analyses without waiting; the analyzer must be ready.
func (a *Analyzer) TermsNow(text string) []Term { return a.terms(text) }
