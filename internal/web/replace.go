package web

import (
	"fmt"
	"net/http"
)

// Built-in placeholder pages that a feature's extension takes over when it is wired in (the
// search page, until search exists). http.ServeMux cannot unregister a pattern, so the
// built-in route stays and delegates to the replacement.

// replaceable marks the built-in handler of pattern as one Router.Replace may take over.
func (s *Server) replaceable(pattern string, h HandlerFunc) HandlerFunc {
	if s.replacements == nil {
		s.replacements = map[string]HandlerFunc{}
	}
	s.replacements[pattern] = nil
	return func(w http.ResponseWriter, r *http.Request) error {
		if repl := s.replacements[pattern]; repl != nil {
			return repl(w, r)
		}
		return h(w, r)
	}
}

// Replace serves a built-in placeholder route with h instead, keeping the built-in route's
// options. Only routes built to be replaced accept it ("GET /search"). Like
// http.ServeMux.Handle with a conflicting pattern, it panics on any other pattern or on a
// second replacement: both are wiring mistakes that must stop the program at start. Call it
// from Extension.Routes.
func (r *Router) Replace(pattern string, h HandlerFunc) {
	cur, ok := r.s.replacements[pattern]
	switch {
	case !ok:
		panic(fmt.Sprintf("web: %q is not a replaceable route", pattern))
	case cur != nil:
		panic(fmt.Sprintf("web: %q is already replaced", pattern))
	}
	r.s.replacements[pattern] = h
}
