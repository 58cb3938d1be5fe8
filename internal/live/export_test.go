package live

// Apply hands a bus message to the manager as its subscription would, so tests of the
// cross-node directory can feed one manager the events another published.
func (m *Manager) Apply(data []byte) { m.apply(data) }
