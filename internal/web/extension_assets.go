package web

// AssetURL returns the content-hashed URL of an embedded static file and whether it exists.
// Extensions use it for optional assets: files under static/vendor/ are installed by `make
// assets` and may be missing from a build made without npm, so a page must be able to
// degrade instead of failing on an unknown asset.
func (r *Router) AssetURL(name string) (string, bool) {
	u, err := r.s.assets.URL(name)
	return u, err == nil
}
