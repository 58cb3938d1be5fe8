package web_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"regexp"
	"testing"
)

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (s *site) mediaCount() int {
	s.t.Helper()
	objs, err := s.media.List(context.Background(), "")
	if err != nil {
		s.t.Fatal(err)
	}
	return len(objs)
}

// upload posts one file as multipart/form-data with the browser's current CSRF token.
func (b *browser) upload(page, action, field string, file []byte) *response {
	b.t.Helper()
	b.get(page)
	ct, body := multipartBody(b.t, map[string]string{"csrf_token": b.lastToken}, field, "picture.png", file)
	return b.raw(http.MethodPost, action, ct, body, nil)
}

var mediaSrcRE = regexp.MustCompile(`src="(/media/[^"]+)"`)

// TestImageUploads: avatars, channel pictures and banners go through the real image
// processor into the real disk store and show up on the pages; bad files are refused with a
// message and leave no trace.
func TestImageUploads(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signUp("pics@example.com", "password 123", "사진가", "pics_chan")

	// Unverified users cannot publish pictures.
	b.upload("/profile", "/profile/avatar", "avatar", pngImage(t, 64, 64)).wantStatus(t, http.StatusForbidden)
	s.verify(b, "pics@example.com")

	b.upload("/profile", "/profile/avatar", "avatar", pngImage(t, 300, 200)).wantRedirect(t, "/profile")
	profile := b.get("/profile").wantStatus(t, http.StatusOK).wantContains(t, "프로필 사진을 바꿨어요")
	m := mediaSrcRE.FindStringSubmatch(profile.body)
	if m == nil {
		t.Fatalf("no avatar image on the profile page:\n%.2000s", profile.body)
	}
	img := s.browser().get(m[1]).wantStatus(t, http.StatusOK)
	if ct := img.header.Get("Content-Type"); ct != "image/png" && ct != "image/jpeg" {
		t.Fatalf("avatar served as %q", ct)
	}
	if img.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatal("media served without nosniff")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader([]byte(img.body)))
	// The processor crops to a square and never enlarges: 300×200 becomes 200×200.
	if err != nil || cfg.Width != 200 || cfg.Height != 200 {
		t.Fatalf("avatar is %dx%d (%v), want the re-encoded 200×200 square", cfg.Width, cfg.Height, err)
	}

	b.upload("/settings/channel", "/settings/channel/profile-image", "image", pngImage(t, 128, 128)).wantRedirect(t, "/settings/channel")
	b.upload("/settings/channel", "/settings/channel/banner", "image", pngImage(t, 1200, 300)).wantRedirect(t, "/settings/channel")
	page := s.browser().get("/c/pics_chan").wantStatus(t, http.StatusOK)
	if n := len(mediaSrcRE.FindAllString(page.body, -1)); n != 2 {
		t.Fatalf("channel page shows %d media images, want profile and banner:\n%.3000s", n, page.body)
	}
	s.browser().get("/api/v1/channels/pics_chan").wantContains(t, `"profile_image_url":"/media/`, `"banner_image_url":"/media/`)

	// Bad files: a 422 with the reason, nothing stored.
	bad := []struct {
		name, page, action, field string
		file                      []byte
		want                      string
	}{
		{"text as avatar", "/profile", "/profile/avatar", "avatar", []byte("just some text, not an image"), "JPEG, PNG, GIF, WebP 이미지만"},
		{"HTML as banner", "/settings/channel", "/settings/channel/banner", "image", []byte("<html><script>alert(1)</script></html>"), "JPEG, PNG, GIF, WebP 이미지만"},
		{"truncated PNG as profile image", "/settings/channel", "/settings/channel/profile-image", "image", pngImage(t, 64, 64)[:100], "이미지를 읽을 수 없어요"},
	}
	for _, c := range bad {
		before, objects := s.snapshot(), s.mediaCount()
		b.upload(c.page, c.action, c.field, c.file).wantStatus(t, http.StatusUnprocessableEntity).wantContains(t, c.want)
		if s.snapshot() != before || s.mediaCount() != objects {
			t.Errorf("%s: something was stored", c.name)
		}
	}
}
