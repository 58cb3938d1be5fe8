// Package e2etest starts a headless Chromium for end-to-end tests and decides whether such a
// test runs: it runs when Chromium is installed, is skipped with a logged reason when it is
// not, and fails instead of skipping when FREELY_E2E=1 (as in CI), so CI can never pass
// without running it.
package e2etest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// EnvE2E makes browser and external-program tests mandatory when set to "1".
const EnvE2E = "FREELY_E2E"

// Require returns the path of program (exec.LookPath), skipping the test when it is missing
// unless FREELY_E2E=1, in which case the test fails.
func Require(t testing.TB, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	if os.Getenv(EnvE2E) == "1" {
		t.Fatalf("%s=1 but %s is not installed: %v", EnvE2E, program, err)
	}
	t.Skipf("skipping: %s is not installed (set %s=1 to make this a failure; .ci/run installs it)", program, EnvE2E)
	return ""
}

// Browser starts a headless Chromium for the test and returns a chromedp context for its
// first tab. The browser stops when the test ends. Additional tabs (or separate browsers
// with their own cookies, via another Browser call) can be opened from it.
func Browser(t testing.TB) context.Context {
	t.Helper()
	chromium := Require(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0], chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts,
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("lang", "ko-KR"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout (that would bound the
	// browser's whole life), so start it here with the test's lifetime.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// ScreenshotOnFailure registers a cleanup that, if the test failed, saves a full-page
// screenshot of ctx's tab as name.png in dir (FREELY_E2E_ARTIFACTS when set, so CI can keep
// it; otherwise a temp dir that is logged) and logs where it went.
func ScreenshotOnFailure(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("FREELY_E2E_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
		if err != nil {
			t.Logf("screenshot failed: %v", err)
			return
		}
		path := filepath.Join(dir, name+".png")
		if err := os.MkdirAll(dir, 0o755); err == nil {
			if err := os.WriteFile(path, shot, 0o644); err == nil {
				t.Logf("screenshot of the failing page: %s", path)
				return
			}
		}
		t.Logf("could not save screenshot to %s", path)
	})
}
