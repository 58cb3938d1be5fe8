package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// serviceDirs hold the use-cases whose *form.FieldError codes the web layer translates.
var serviceDirs = []string{"../../account", "../../channel", "../../imageproc", "../../form"}

// TestEveryServiceFieldCodeHasMessages reads the services' source for form.New(field, "code")
// and errs.Add(field, "code") calls, so a code added there without a message here fails.
func TestEveryServiceFieldCodeHasMessages(t *testing.T) {
	t.Parallel()
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, dir := range serviceDirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
			if err != nil {
				t.Fatalf("parse %s: %v", path, err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) != 2 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "New" && sel.Sel.Name != "Add") {
					return true
				}
				lit, ok := call.Args[1].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				if code, err := strconv.Unquote(lit.Value); err == nil {
					codes[code] = path
				}
				return true
			})
		}
	}
	for _, code := range fieldCodes {
		codes[code] = "the services contract"
	}
	if len(codes) < len(fieldCodes) {
		t.Fatalf("found only %d codes", len(codes))
	}
	for code, where := range codes {
		for _, l := range Langs {
			id := "field." + code
			if got := c.T(l, id); got == id {
				t.Errorf("code %q (from %s) has no %s message %q", code, where, l, id)
			}
		}
	}
}
