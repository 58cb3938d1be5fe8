// Package imageproc turns untrusted uploaded image bytes into safe, small images: it sniffs the
// type from the content, refuses oversized inputs and decompression bombs before decoding,
// decodes, scales/crops to the target size and re-encodes as PNG (when there is transparency) or
// JPEG. Re-encoding drops every byte that is not pixels — EXIF/GPS metadata, comments, and
// whatever a polyglot file hid after the image. Save puts the result in a blob store. It imports
// only form and the blob port from the project; no HTTP.
package imageproc

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"runtime"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/freelylive/freely/internal/form"
)

// Kind describes one use of an uploaded image.
type Kind struct {
	Field    string // form field named in errors, e.g. "avatar"
	MaxBytes int64  // largest upload accepted
	MaxW     int    // largest decoded width accepted
	MaxH     int    // largest decoded height accepted
	OutW     int    // target width
	OutH     int    // target height
	// Crop: cover OutW×OutH and cut the overflow from the centre (exact aspect). Otherwise the
	// whole image is fitted inside OutW×OutH. Images are never enlarged: a small upload keeps
	// its size (cropped to the aspect when Crop is set).
	Crop bool
}

// The kinds of image the platform accepts.
var (
	Avatar         = Kind{Field: "avatar", MaxBytes: 5 << 20, MaxW: 8192, MaxH: 8192, OutW: 256, OutH: 256, Crop: true}
	ChannelProfile = Kind{Field: "profile_image", MaxBytes: 5 << 20, MaxW: 8192, MaxH: 8192, OutW: 256, OutH: 256, Crop: true}
	Banner         = Kind{Field: "banner_image", MaxBytes: 10 << 20, MaxW: 8192, MaxH: 8192, OutW: 1920, OutH: 480, Crop: true}
)

// maxDecodedBytes caps the memory one decode may take, whatever the declared dimensions: a
// 1 KB PNG can claim 8192×8192 pixels at 16 bits per channel (512 MB).
const maxDecodedBytes = 200 << 20

// JPEGQuality is used for opaque images.
const JPEGQuality = 85

// Error codes (form.FieldError.Code).
const (
	CodeTooLarge = "image_too_large"
	CodeType     = "image_type"
	CodeInvalid  = "image_invalid"
)

// Processor re-encodes images. It bounds how many decodes run at once, because each may hold
// up to maxDecodedBytes; use one Processor per process. Safe for concurrent use.
type Processor struct {
	slots chan struct{}
}

// New returns a Processor that decodes at most GOMAXPROCS images at a time.
func New() *Processor {
	return &Processor{slots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))}
}

// Process reads at most k.MaxBytes from r and returns the re-encoded image and its content type
// ("image/png" or "image/jpeg"). Accepted inputs, sniffed by content: JPEG, PNG, GIF (first
// frame) and WebP. Bad input gives a *form.FieldError on k.Field: image_too_large (bytes or
// dimensions), image_type (not one of those formats) or image_invalid (corrupt). Read errors
// from r are returned wrapped.
func (p *Processor) Process(r io.Reader, k Kind) ([]byte, string, error) {
	data, err := io.ReadAll(io.LimitReader(r, k.MaxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("read upload: %w", err)
	}
	if int64(len(data)) > k.MaxBytes {
		return nil, "", form.New(k.Field, CodeTooLarge)
	}
	f := sniff(data)
	if f == nil {
		return nil, "", form.New(k.Field, CodeType)
	}
	cfg, err := f.decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, "", form.New(k.Field, CodeInvalid)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, "", form.New(k.Field, CodeInvalid)
	}
	if cfg.Width > k.MaxW || cfg.Height > k.MaxH ||
		int64(cfg.Width)*int64(cfg.Height)*bytesPerPixel(cfg.ColorModel) > maxDecodedBytes {
		return nil, "", form.New(k.Field, CodeTooLarge)
	}

	p.slots <- struct{}{}
	defer func() { <-p.slots }()

	src, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", form.New(k.Field, CodeInvalid)
	}
	// Decoders may still hand back something other than what the header said (a GIF frame
	// outside its screen, for instance); check what we actually got.
	b := src.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx() > k.MaxW || b.Dy() > k.MaxH {
		return nil, "", form.New(k.Field, CodeInvalid)
	}
	orientation := 1
	if f.name == "jpeg" {
		orientation = jpegOrientation(data)
	}
	out := resize(src, orientation, k)

	var buf bytes.Buffer
	if out.Opaque() {
		if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: JPEGQuality}); err != nil {
			return nil, "", fmt.Errorf("encode jpeg: %w", err)
		}
		return buf.Bytes(), "image/jpeg", nil
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, out); err != nil {
		return nil, "", fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), "image/png", nil
}

// Extension returns the file extension (with dot) for a content type Process returns.
func Extension(contentType string) string {
	if contentType == "image/png" {
		return ".png"
	}
	return ".jpg"
}

type format struct {
	name         string
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

var (
	formatJPEG = &format{"jpeg", jpeg.DecodeConfig, jpeg.Decode}
	formatPNG  = &format{"png", png.DecodeConfig, png.Decode}
	formatGIF  = &format{"gif", gif.DecodeConfig, gif.Decode}
	formatWebP = &format{"webp", webp.DecodeConfig, webp.Decode}
)

// sniff picks the decoder from the magic bytes; the file name and the client's content type
// are not trusted.
func sniff(b []byte) *format {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return formatJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return formatGIF
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return formatWebP
	}
	return nil
}

// bytesPerPixel estimates what a decoder allocates per pixel for a colour model.
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}

// resize crops/fits src as k asks, after accounting for the EXIF orientation (1–8), and
// returns the result upright. The scaling happens in the stored orientation and only the
// small result is rotated, so a large photo is never copied just to turn it.
func resize(src image.Image, orientation int, k Kind) *image.RGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	swap := orientation >= 5 && orientation <= 8
	dw, dh := w, h // displayed size
	if swap {
		dw, dh = h, w
	}
	cw, ch, ow, oh := plan(dw, dh, k)
	if swap {
		cw, ch, ow, oh = ch, cw, oh, ow
	}
	crop := image.Rect(0, 0, cw, ch).Add(b.Min).Add(image.Pt((w-cw)/2, (h-ch)/2))
	scaled := image.NewRGBA(image.Rect(0, 0, ow, oh))
	draw.CatmullRom.Scale(scaled, scaled.Bounds(), src, crop, draw.Src, nil)
	return orient(scaled, orientation)
}

// plan returns the source region (cw×ch, centred) and the output size for a displayed image of
// dw×dh.
func plan(dw, dh int, k Kind) (cw, ch, ow, oh int) {
	if k.Crop {
		cw, ch = dw, dh
		if int64(dw)*int64(k.OutH) > int64(dh)*int64(k.OutW) {
			cw = max(1, int(int64(dh)*int64(k.OutW)/int64(k.OutH)))
		} else {
			ch = max(1, int(int64(dw)*int64(k.OutH)/int64(k.OutW)))
		}
		if cw >= k.OutW {
			return cw, ch, k.OutW, k.OutH
		}
		return cw, ch, cw, ch
	}
	ow, oh = dw, dh
	if dw > k.OutW || dh > k.OutH {
		if int64(dw)*int64(k.OutH) > int64(dh)*int64(k.OutW) {
			ow, oh = k.OutW, max(1, int((int64(dh)*int64(k.OutW)+int64(dw)/2)/int64(dw)))
		} else {
			ow, oh = max(1, int((int64(dw)*int64(k.OutH)+int64(dh)/2)/int64(dh))), k.OutH
		}
	}
	return dw, dh, ow, oh
}

// orient turns an image stored with EXIF orientation o into its upright form.
func orient(s *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return s
	}
	w, h := s.Rect.Dx(), s.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	d := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			si, di := s.PixOffset(sx, sy), d.PixOffset(x, y)
			copy(d.Pix[di:di+4], s.Pix[si:si+4])
		}
	}
	return d
}

// IsFieldError reports whether err is an input problem (as opposed to an I/O failure).
func IsFieldError(err error) bool {
	var fe *form.FieldError
	return errors.As(err, &fe)
}
