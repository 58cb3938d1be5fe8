package thumbnail

// SetOnStored installs a callback run after each frame is stored, so tests wait on frames
// instead of sleeping.
func (g *Grabber) SetOnStored(f func(channelID int64, key string)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.onStored = f
}
