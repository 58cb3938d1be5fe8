// Package analysistest gives tests a loaded Korean analyzer without paying for the
// dictionary (seconds and hundreds of megabytes) more than once per test binary.
package analysistest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/search/analysis"
)

var (
	once     sync.Once
	analyzer *analysis.Analyzer
)

// Ready returns the test binary's analyzer once its dictionary has loaded.
func Ready(t testing.TB) *analysis.Analyzer {
	t.Helper()
	once.Do(func() { analyzer = analysis.New(analysis.Options{}) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := analyzer.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	return analyzer
}
