package imageproc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"strings"
	"testing"

	"github.com/freelylive/freely/internal/form"
)

// gradient is an opaque test image whose pixels differ, so scaling and turning are visible.
func gradient(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x*255/max(1, w-1)), uint8(y*255/max(1, h-1)), 90, 255
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func translucent(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{200, 30, 30, uint8(x % 256)})
		}
	}
	return img
}

func fieldCode(t *testing.T, err error) string {
	t.Helper()
	var fe *form.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *form.FieldError", err)
	}
	return fe.Code
}

func decodeOut(t *testing.T, data []byte, contentType string) image.Image {
	t.Helper()
	img, name, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	if "image/"+name != contentType {
		t.Fatalf("output is %s but content type says %s", name, contentType)
	}
	return img
}

func TestProcessSizes(t *testing.T) {
	t.Parallel()
	p := New()
	fit := Kind{Field: "x", MaxBytes: 1 << 20, MaxW: 4000, MaxH: 4000, OutW: 300, OutH: 300}
	// The banner's 4:1 crop at a tenth of the size, so the race-enabled run stays quick.
	smallBanner := Banner
	smallBanner.OutW, smallBanner.OutH = 192, 48
	cases := []struct {
		name         string
		in           []byte
		kind         Kind
		wantW, wantH int
		wantType     string
	}{
		{"wide photo to avatar", encodeJPEG(t, gradient(1000, 500)), Avatar, 256, 256, "image/jpeg"},
		{"tall png to avatar", encodePNG(t, gradient(300, 900)), Avatar, 256, 256, "image/jpeg"},
		{"small avatar not enlarged", encodePNG(t, gradient(100, 80)), Avatar, 80, 80, "image/jpeg"},
		{"banner at its size", encodeJPEG(t, gradient(1920, 480)), Banner, 1920, 480, "image/jpeg"},
		{"4:1 banner scaled", encodeJPEG(t, gradient(384, 96)), smallBanner, 192, 48, "image/jpeg"},
		{"banner from square", encodeJPEG(t, gradient(400, 400)), smallBanner, 192, 48, "image/jpeg"},
		{"small banner keeps aspect", encodeJPEG(t, gradient(800, 800)), Banner, 800, 200, "image/jpeg"},
		{"alpha stays png", encodePNG(t, translucent(512, 512)), ChannelProfile, 256, 256, "image/png"},
		{"fit keeps aspect", encodePNG(t, gradient(900, 300)), fit, 300, 100, "image/jpeg"},
		{"fit leaves small alone", encodePNG(t, gradient(120, 30)), fit, 120, 30, "image/jpeg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out, ct, err := p.Process(bytes.NewReader(c.in), c.kind)
			if err != nil {
				t.Fatal(err)
			}
			if ct != c.wantType {
				t.Errorf("content type %s, want %s", ct, c.wantType)
			}
			img := decodeOut(t, out, ct)
			if b := img.Bounds(); b.Dx() != c.wantW || b.Dy() != c.wantH {
				t.Errorf("output %dx%d, want %dx%d", b.Dx(), b.Dy(), c.wantW, c.wantH)
			}
		})
	}
}

func TestProcessGIFAndWebP(t *testing.T) {
	t.Parallel()
	p := New()
	pal := image.NewPaletted(image.Rect(0, 0, 64, 40), color.Palette{color.Transparent, color.RGBA{0, 0, 255, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 2)
	}
	var g bytes.Buffer
	if err := gif.Encode(&g, pal, nil); err != nil {
		t.Fatal(err)
	}
	lossy, err := os.ReadFile("testdata/blue-purple-pink.lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	alpha, err := os.ReadFile("testdata/gopher-doc.with-alpha.lossless.webp")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		in       []byte
		wantType string
	}{
		{"transparent gif", g.Bytes(), "image/png"},
		{"lossy webp", lossy, "image/jpeg"},
		{"lossless webp with alpha", alpha, "image/png"},
	} {
		out, ct, err := p.Process(bytes.NewReader(c.in), Avatar)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if ct != c.wantType {
			t.Errorf("%s: content type %s, want %s", c.name, ct, c.wantType)
		}
		decodeOut(t, out, ct)
	}
}

func TestProcessRefusesBadInput(t *testing.T) {
	t.Parallel()
	p := New()
	small := Kind{Field: "avatar", MaxBytes: 1000, MaxW: 100, MaxH: 100, OutW: 50, OutH: 50, Crop: true}
	big := encodePNG(t, gradient(200, 200))
	truncated := encodeJPEG(t, gradient(64, 64))
	truncated = truncated[:len(truncated)/3]
	cases := []struct {
		name string
		in   []byte
		kind Kind
		code string
	}{
		{"empty", nil, Avatar, CodeType},
		{"html", []byte("<!doctype html><script>alert(1)</script>"), Avatar, CodeType},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), Avatar, CodeType},
		{"bmp", append([]byte("BM"), make([]byte, 64)...), Avatar, CodeType},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00"), Avatar, CodeType},
		{"png magic only", []byte("\x89PNG\r\n\x1a\n"), Avatar, CodeInvalid},
		{"truncated jpeg", truncated, Avatar, CodeInvalid},
		{"too many bytes", big, small, CodeTooLarge},
		{"too wide", encodePNG(t, gradient(101, 10)), Kind{Field: "a", MaxBytes: 1 << 20, MaxW: 100, MaxH: 100, OutW: 50, OutH: 50}, CodeTooLarge},
		{"dimension bomb", pngHeaderOnly(t, 60000, 60000, 8, 6), Avatar, CodeTooLarge},
		{"memory bomb within dimension cap", pngHeaderOnly(t, 8192, 8192, 16, 6), Avatar, CodeTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out, _, err := p.Process(bytes.NewReader(c.in), c.kind)
			if err == nil {
				t.Fatalf("accepted %d bytes of output", len(out))
			}
			if got := fieldCode(t, err); got != c.code {
				t.Errorf("code %q, want %q", got, c.code)
			}
			var fe *form.FieldError
			errors.As(err, &fe)
			if fe.Field != c.kind.Field {
				t.Errorf("field %q, want %q", fe.Field, c.kind.Field)
			}
		})
	}
}

// pngHeaderOnly is a PNG signature and a valid IHDR claiming w×h, followed by a tiny IDAT
// and IEND: what a decompression bomb looks like to DecodeConfig.
func pngHeaderOnly(t *testing.T, w, h uint32, depth, colorType byte) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, colorType
	writeChunk(&b, "IHDR", ihdr)
	writeChunk(&b, "IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	writeChunk(&b, "IEND", nil)
	return b.Bytes()
}

func writeChunk(b *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	b.Write(n[:])
	b.WriteString(typ)
	b.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	b.Write(n[:])
}

const gpsSecret = "GPS-37.5665N-126.9780E-SECRET"

// withEXIF inserts an APP1 Exif segment (big-endian TIFF) after the SOI of a JPEG. IFD0 holds
// the orientation tag and a GPS IFD pointer; the GPS IFD holds a latitude reference and an
// ASCII value carrying gpsSecret, so the test can look for it byte for byte. A COM segment
// with the same secret follows.
func withEXIF(t testing.TB, jpg []byte, orientation uint16) []byte {
	t.Helper()
	be := binary.BigEndian
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")
	entry := func(tag, typ uint16, count, value uint32) []byte {
		e := make([]byte, 12)
		be.PutUint16(e[0:], tag)
		be.PutUint16(e[2:], typ)
		be.PutUint32(e[4:], count)
		be.PutUint32(e[8:], value)
		return e
	}
	// IFD0 at 8: 2 entries (2 + 24 + 4 bytes) → GPS IFD at 38: 2 entries → data at 68.
	tiff = append(tiff, 0, 2)
	tiff = append(tiff, entry(0x0112, 3, 1, uint32(orientation)<<16)...)
	tiff = append(tiff, entry(0x8825, 4, 1, 38)...)
	tiff = append(tiff, 0, 0, 0, 0)
	tiff = append(tiff, 0, 2)
	tiff = append(tiff, entry(0x0001, 2, 2, 'N'<<24)...) // GPSLatitudeRef "N\0"
	tiff = append(tiff, entry(0x001b, 2, uint32(len(gpsSecret)+1), 68)...)
	tiff = append(tiff, 0, 0, 0, 0)
	tiff = append(tiff, gpsSecret...)
	tiff = append(tiff, 0)

	app1 := append([]byte("Exif\x00\x00"), tiff...)
	var out bytes.Buffer
	out.Write(jpg[:2])
	out.Write([]byte{0xFF, 0xE1, byte((len(app1) + 2) >> 8), byte(len(app1) + 2)})
	out.Write(app1)
	com := []byte("comment " + gpsSecret)
	out.Write([]byte{0xFF, 0xFE, byte((len(com) + 2) >> 8), byte(len(com) + 2)})
	out.Write(com)
	out.Write(jpg[2:])
	return out.Bytes()
}

func TestProcessStripsEXIFAndGPS(t *testing.T) {
	t.Parallel()
	in := withEXIF(t, encodeJPEG(t, gradient(400, 300)), 1)
	if _, err := jpeg.Decode(bytes.NewReader(in)); err != nil {
		t.Fatalf("test input is not a valid JPEG: %v", err)
	}
	if !bytes.Contains(in, []byte(gpsSecret)) || !bytes.Contains(in, []byte("Exif\x00\x00")) {
		t.Fatal("test input lacks the metadata it should carry")
	}
	out, ct, err := New().Process(bytes.NewReader(in), Avatar)
	if err != nil {
		t.Fatal(err)
	}
	decodeOut(t, out, ct)
	for _, leak := range []string{gpsSecret, "Exif", "comment"} {
		if bytes.Contains(out, []byte(leak)) {
			t.Errorf("output still contains %q", leak)
		}
	}
	// Nothing but the JFIF header and image segments: no APPn other than APP0, no COM.
	for i := 2; i+4 <= len(out) && out[i] == 0xFF && out[i+1] != 0xDA; {
		m := out[i+1]
		if m >= 0xE1 && m <= 0xEF || m == 0xFE {
			t.Errorf("output has metadata segment 0xFF%02X", m)
		}
		i += 2 + int(binary.BigEndian.Uint16(out[i+2:]))
	}
}

func TestProcessAppliesEXIFOrientation(t *testing.T) {
	t.Parallel()
	// A 200×100 stored image whose left half is red and right half blue.
	src := image.NewRGBA(image.Rect(0, 0, 200, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 200; x++ {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 100 {
				c = color.RGBA{0, 0, 255, 255}
			}
			src.Set(x, y, c)
		}
	}
	fit := Kind{Field: "x", MaxBytes: 1 << 20, MaxW: 1000, MaxH: 1000, OutW: 1000, OutH: 1000}
	cases := []struct {
		orientation  uint16
		w, h         int
		topLeftIsRed bool // colour near the top-left corner of the output
	}{
		{1, 200, 100, true},
		{3, 200, 100, false}, // turned 180°: blue on the left
		{6, 100, 200, true},  // turned 90° clockwise: red on top
		{8, 100, 200, false}, // turned 90° anticlockwise: blue on top
	}
	for _, c := range cases {
		in := withEXIF(t, encodeJPEG(t, src), c.orientation)
		out, ct, err := New().Process(bytes.NewReader(in), fit)
		if err != nil {
			t.Fatal(err)
		}
		img := decodeOut(t, out, ct)
		if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h {
			t.Errorf("orientation %d: %dx%d, want %dx%d", c.orientation, b.Dx(), b.Dy(), c.w, c.h)
			continue
		}
		r, _, bl, _ := img.At(10, 10).RGBA()
		if isRed := r > bl; isRed != c.topLeftIsRed {
			t.Errorf("orientation %d: top-left red=%v, want %v", c.orientation, isRed, c.topLeftIsRed)
		}
	}
}

func TestProcessDefeatsPolyglots(t *testing.T) {
	t.Parallel()
	html := "<html><body><script>alert(document.cookie)</script></body></html>"
	zip := "PK\x03\x04\x14\x00\x00\x00\x08\x00evil.php<?php system($_GET['c']); ?>PK\x05\x06"

	appended := append(encodePNG(t, gradient(64, 64)), html+zip...)
	// HTML hidden in an ancillary chunk, before IEND.
	var chunked bytes.Buffer
	clean := encodePNG(t, translucent(64, 64))
	iend := bytes.LastIndex(clean, []byte("IEND")) - 4
	chunked.Write(clean[:iend])
	writeChunk(&chunked, "tEXt", []byte("Comment\x00"+html))
	chunked.Write(clean[iend:])
	jpegCOM := encodeJPEG(t, gradient(64, 64))
	jpegCOM = append(jpegCOM[:2:2], append([]byte{0xFF, 0xFE, 0, byte(len(html) + 2)}, append([]byte(html), jpegCOM[2:]...)...)...)

	for name, in := range map[string][]byte{"png+html+zip": appended, "png tEXt html": chunked.Bytes(), "jpeg COM html": jpegCOM} {
		if _, _, err := image.Decode(bytes.NewReader(in)); err != nil {
			t.Fatalf("%s: polyglot is not a valid image, test is wrong: %v", name, err)
		}
		out, ct, err := New().Process(bytes.NewReader(in), Avatar)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		decodeOut(t, out, ct)
		for _, bad := range []string{"<script", "<html", "PK\x03\x04", "<?php", "Comment"} {
			if bytes.Contains(bytes.ToLower(out), bytes.ToLower([]byte(bad))) {
				t.Errorf("%s: output still contains %q", name, bad)
			}
		}
		if ct == "image/png" && !bytes.HasSuffix(out, []byte("IEND\xaeB`\x82")) {
			t.Errorf("%s: PNG output has bytes after IEND", name)
		}
		if ct == "image/jpeg" && !bytes.HasSuffix(out, []byte{0xFF, 0xD9}) {
			t.Errorf("%s: JPEG output has bytes after EOI", name)
		}
	}
}

func TestJPEGOrientationMalformed(t *testing.T) {
	t.Parallel()
	good := withEXIF(t, encodeJPEG(t, gradient(8, 8)), 6)
	if got := jpegOrientation(good); got != 6 {
		t.Fatalf("orientation of well-formed EXIF = %d, want 6", got)
	}
	// Every truncation of the metadata must give 1 (or 6 once the tag is complete), never panic.
	for n := 0; n < 200 && n < len(good); n++ {
		if got := jpegOrientation(good[:n]); got != 1 && got != 6 {
			t.Fatalf("truncated at %d: orientation %d", n, got)
		}
	}
	if got := jpegOrientation([]byte("\xFF\xD8\xFF\xE1\x00\x01")); got != 1 {
		t.Errorf("bad length: %d", got)
	}
}

func TestExtension(t *testing.T) {
	t.Parallel()
	if Extension("image/png") != ".png" || Extension("image/jpeg") != ".jpg" {
		t.Error("wrong extensions")
	}
}

// FuzzProcess feeds arbitrary bytes to the upload path: it must never panic, and whatever it
// accepts must come out as a decodable image within the target size, of the declared type.
func FuzzProcess(f *testing.F) {
	f.Add(encodePNG(f, gradient(16, 9)))
	f.Add(encodePNG(f, translucent(8, 8)))
	f.Add(encodeJPEG(f, gradient(16, 16)))
	f.Add(withEXIF(f, encodeJPEG(f, gradient(12, 7)), 6))
	var g bytes.Buffer
	_ = gif.Encode(&g, gradient(10, 10), nil)
	f.Add(g.Bytes())
	for _, name := range []string{"testdata/blue-purple-pink.lossy.webp", "testdata/gopher-doc.with-alpha.lossless.webp"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte("GIF89a"))

	kind := Kind{Field: "f", MaxBytes: 256 << 10, MaxW: 1024, MaxH: 1024, OutW: 64, OutH: 48, Crop: true}
	p := New()
	f.Fuzz(func(t *testing.T, data []byte) {
		out, ct, err := p.Process(bytes.NewReader(data), kind)
		if err != nil {
			var fe *form.FieldError
			if !errors.As(err, &fe) || fe.Field != "f" {
				t.Fatalf("non-field error %v", err)
			}
			return
		}
		img, name, err := image.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("accepted input produced undecodable output: %v", err)
		}
		if !strings.HasSuffix(ct, name) {
			t.Fatalf("content type %s for %s output", ct, name)
		}
		if b := img.Bounds(); b.Dx() < 1 || b.Dy() < 1 || b.Dx() > kind.OutW || b.Dy() > kind.OutH {
			t.Fatalf("output %v outside target %dx%d", b, kind.OutW, kind.OutH)
		}
	})
}
