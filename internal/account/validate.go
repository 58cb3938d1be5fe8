package account

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/freelylive/freely/internal/form"
)

// Input limits. Nicknames are counted in grapheme clusters (what a person sees as one
// character: 한, é, 👍🏽), passwords in Unicode code points.
const (
	MaxEmailLen       = 254 // bytes, RFC 5321 path limit
	MinNicknameLen    = 2
	MaxNicknameLen    = 20
	MinPasswordLen    = 8
	MaxPasswordLen    = 128
	maxEmailLocalPart = 64
)

// NormalizeEmail trims and lower-cases an address and checks its shape (local@domain.tld with
// the usual unquoted characters). It is deliberately stricter than RFC 5322: quoted local
// parts, comments and IP-literal domains are refused. Errors are *form.FieldError on "email".
func NormalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	if e == "" || len(e) > MaxEmailLen || !validEmail(e) {
		return "", form.New("email", "email_invalid")
	}
	return e, nil
}

func validEmail(e string) bool {
	at := strings.LastIndexByte(e, '@')
	if at < 1 || at > maxEmailLocalPart {
		return false
	}
	local, domain := e[:at], e[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !(isLowerAlnum(c) || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0) {
			return false
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isLowerAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return len(tld) >= 2 && !allDigits(tld)
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// reservedNicknames are compared by NicknameKey with underscores removed, so "Admin", "ADMIN"
// and "ad_min" are all refused. They would let someone pose as the people running the site.
var reservedNicknames = map[string]bool{
	"admin": true, "administrator": true, "관리자": true, "운영자": true, "운영진": true,
	"운영팀": true, "freely": true, "프릴리": true, "moderator": true, "mod": true, "root": true,
	"system": true, "시스템": true, "staff": true, "스태프": true, "support": true, "고객센터": true,
	"official": true, "공식": true,
}

// Characters that are letters to Unicode but render as nothing; people use them to make
// blank or look-alike nicknames.
var invisibleLetters = map[rune]bool{
	'\u115F': true, // HANGUL CHOSEONG FILLER
	'\u1160': true, // HANGUL JUNGSEONG FILLER
	'\u3164': true, // HANGUL FILLER
	'\uFFA0': true, // HALFWIDTH HANGUL FILLER
}

// NormalizeNickname trims, NFC-normalises and checks a nickname: 2–20 grapheme clusters of
// letters (any script, Hangul included), digits and '_', with no control, format (zero-width)
// or invisible filler characters, and not a reserved name. Errors are *form.FieldError on
// "nickname" with code nickname_invalid or nickname_reserved.
func NormalizeNickname(s string) (string, error) {
	n := norm.NFC.String(strings.TrimSpace(s))
	invalid := form.New("nickname", "nickname_invalid")
	if !utf8.ValidString(n) || len(n) > 4*MaxNicknameLen*4 {
		return "", invalid
	}
	count := 0
	g := uniseg.NewGraphemes(n)
	for g.Next() {
		count++
		if count > MaxNicknameLen || !nicknameCluster(g.Runes()) {
			return "", invalid
		}
	}
	if count < MinNicknameLen {
		return "", invalid
	}
	if reservedNicknames[strings.ReplaceAll(NicknameKey(n), "_", "")] {
		return "", form.New("nickname", "nickname_reserved")
	}
	return n, nil
}

// nicknameCluster accepts one grapheme cluster: a letter, digit or '_' followed by at most a
// few combining marks or conjoining Hangul jamo (old Hangul, Indic scripts). The bound on the
// cluster length refuses "Zalgo" stacks of diacritics.
func nicknameCluster(rs []rune) bool {
	if len(rs) == 0 || len(rs) > 4 {
		return false
	}
	first := rs[0]
	if invisibleLetters[first] || !(first == '_' || unicode.IsLetter(first) || unicode.IsDigit(first)) {
		return false
	}
	for _, r := range rs[1:] {
		if invisibleLetters[r] || !(unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)) {
			return false
		}
	}
	return true
}

// NicknameKey is the form under which nicknames are unique: compatibility-normalised and
// case-folded, so "Freely", "FREELY" and full-width "ＦＲＥＥＬＹ" collide. Stores index it.
func NicknameKey(nickname string) string {
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(strings.TrimSpace(nickname))))
}

// CheckPassword applies the password policy: 8–128 code points and not the e-mail address
// itself (email is the normalised address, "" to skip that rule). It does not trim: spaces
// are part of a passphrase. Errors are *form.FieldError on "password".
func CheckPassword(password, email string) error {
	if !utf8.ValidString(password) {
		return form.New("password", "password_invalid")
	}
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return form.New("password", "password_too_short")
	case n > MaxPasswordLen:
		return form.New("password", "password_too_long")
	case email != "" && strings.EqualFold(strings.TrimSpace(password), email):
		return form.New("password", "password_same_as_email")
	}
	return nil
}
