package account

import (
	"strings"
	"testing"
	"time"
)

// testParams keep the race-enabled test run fast; the algorithm and encoding are the same.
var testParams = PasswordParams{Memory: 1024, Time: 1, Threads: 1}

func TestHashAndVerifyPassword(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse battery", testParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("encoding %q lacks the parameters", h)
	}
	if ok, err := VerifyPassword("correct horse battery", h); err != nil || !ok {
		t.Fatalf("right password: ok=%v err=%v", ok, err)
	}
	if ok, err := VerifyPassword("correct horse batterx", h); err != nil || ok {
		t.Fatalf("wrong password: ok=%v err=%v", ok, err)
	}
	h2, _ := HashPassword("correct horse battery", testParams)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	t.Parallel()
	good, _ := HashPassword("password1", testParams)
	parts := strings.Split(good, "$")
	for _, bad := range []string{
		"",
		"plaintext",
		"$2a$10$abcdefghijklmnopqrstuu5Jr3Xb1Jm3i3s0iHq2bFq5a4n1n6e", // bcrypt
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=1024", "m=99999999", 1),
		strings.Replace(good, "t=1", "t=0", 1),
		strings.Replace(good, "p=1", "p=0", 1),
		strings.Join(append(parts[:4:4], "!!!", parts[5]), "$"),
		strings.Join(append(parts[:5:5], "short"), "$"),
		good + "$extra",
	} {
		if ok, err := VerifyPassword("password1", bad); err == nil || ok {
			t.Errorf("VerifyPassword accepted malformed hash %q (ok=%v err=%v)", bad, ok, err)
		}
	}
}

// TestDefaultPasswordCost records what one default hash costs here; it fails only if the
// parameters became absurdly cheap.
func TestDefaultPasswordCost(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	start := time.Now()
	h, err := HashPassword("correct horse battery", DefaultPasswordParams)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("one default argon2id hash (%s) took %v", h[:32], took)
	if took < 5*time.Millisecond {
		t.Errorf("default hash took only %v; parameters too weak", took)
	}
}
