package imageproc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/freelylive/freely/internal/blob"
)

// ImmutableCache is the Cache-Control of saved images: every upload gets a new key, so the
// object behind a URL never changes and browsers and CDNs may keep it forever.
const ImmutableCache = "public, max-age=31536000, immutable"

// Save stores a processed image under prefix plus a random name and the extension of its
// content type (e.g. "avatars/12/" → "avatars/12/9f86d081884c7d659a2feaa0.jpg") and returns
// the key.
func Save(ctx context.Context, b blob.Store, prefix string, data []byte, contentType string) (string, error) {
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("image name: %w", err)
	}
	key := prefix + hex.EncodeToString(rnd[:]) + Extension(contentType)
	err := b.Put(ctx, key, bytes.NewReader(data), blob.PutOptions{ContentType: contentType, CacheControl: ImmutableCache})
	if err != nil {
		return "", fmt.Errorf("store image %s: %w", key, err)
	}
	return key, nil
}
