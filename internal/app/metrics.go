package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/freelylive/freely/internal/chat"
	"github.com/freelylive/freely/internal/media"
	"github.com/freelylive/freely/internal/media/hls"
	"github.com/freelylive/freely/internal/search"
)

// platformMetrics exports the live-video, chat and search counters the components already
// keep (media.Hub, hls.Server, chat.Hub and search.Service Stats) on /metrics. It reads them
// at scrape time, so nothing on the media, chat or search path does extra work for metrics. Figures are totals over
// every channel: per-channel labels would grow with the number of channels ever live.
type platformMetrics struct {
	media  *media.Hub
	hls    *hls.Server
	chat   *chat.Hub
	search *search.Service
}

var (
	descPublishing   = prometheus.NewDesc("freely_live_publishing_channels", "Channels with a publisher connected.", nil, nil)
	descMediaUnits   = prometheus.NewDesc("freely_media_units_total", "Media units (frames, audio packets) taken in by the current or last ingest of every channel.", nil, nil)
	descMediaDropped = prometheus.NewDesc("freely_media_reader_dropped_units_total", "Units a reader (HLS muxer, thumbnailer) lost because it fell behind its ingest.", nil, nil)
	descHLSStreams   = prometheus.NewDesc("freely_hls_streams", "Channels with HLS output held in memory.", nil, nil)
	descHLSBytes     = prometheus.NewDesc("freely_hls_held_bytes", "Bytes of segments and parts held in memory for HLS.", nil, nil)
	descHLSWaiting   = prometheus.NewDesc("freely_hls_waiting_requests", "HLS requests blocked waiting for a part, segment or first playlist.", nil, nil)
	descHLSErrors    = prometheus.NewDesc("freely_hls_encode_errors_total", "Frames the HLS muxers could not use.", nil, nil)
	descChatRooms    = prometheus.NewDesc("freely_chat_rooms", "Chat rooms open on this node.", nil, nil)
	descChatConns    = prometheus.NewDesc("freely_chat_connections", "Chat sockets joined to rooms on this node.", nil, nil)
	descChatStored   = prometheus.NewDesc("freely_chat_stored_messages_total", "Chat messages written to the database.", nil, nil)
	descChatFailures = prometheus.NewDesc("freely_chat_store_failures_total", "Failed chat batch writes (retried).", nil, nil)
	descChatLost     = prometheus.NewDesc("freely_chat_lost_messages_total", "Accepted chat messages that could not be stored.", nil, nil)
	descSearches     = prometheus.NewDesc("freely_search_requests_total", "Searches answered (refused queries not counted).", nil, nil)
	descSearchHits   = prometheus.NewDesc("freely_search_result_cache_hits_total", "Searches answered whole from the result cache.", nil, nil)
	descSearchRanked = prometheus.NewDesc("freely_search_store_sections_total", "Result sections ranked from the index store (their page was not cached).", nil, nil)
	descSearchCards  = prometheus.NewDesc("freely_search_store_cards_total", "Result cards read from the index store (not cached).", nil, nil)
)

func (m *platformMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPublishing, descMediaUnits, descMediaDropped, descHLSStreams, descHLSBytes, descHLSWaiting, descHLSErrors, descChatRooms, descChatConns, descChatStored, descChatFailures, descChatLost, descSearches, descSearchHits, descSearchRanked, descSearchCards} {
		ch <- d
	}
}

func (m *platformMetrics) Collect(ch chan<- prometheus.Metric) {
	var publishing int
	var units, dropped uint64
	for _, c := range m.media.Stats() {
		if c.Publishing {
			publishing++
		}
		units += c.Units
		for _, r := range c.Readers {
			dropped += r.Dropped
		}
	}
	ch <- prometheus.MustNewConstMetric(descPublishing, prometheus.GaugeValue, float64(publishing))
	ch <- prometheus.MustNewConstMetric(descMediaUnits, prometheus.CounterValue, float64(units))
	ch <- prometheus.MustNewConstMetric(descMediaDropped, prometheus.CounterValue, float64(dropped))

	streams := m.hls.Stats()
	var held, waiting int
	var encodeErrors uint64
	for _, s := range streams {
		held += s.Bytes
		waiting += s.Waiting
		encodeErrors += s.EncodeErrors
	}
	ch <- prometheus.MustNewConstMetric(descHLSStreams, prometheus.GaugeValue, float64(len(streams)))
	ch <- prometheus.MustNewConstMetric(descHLSBytes, prometheus.GaugeValue, float64(held))
	ch <- prometheus.MustNewConstMetric(descHLSWaiting, prometheus.GaugeValue, float64(waiting))
	ch <- prometheus.MustNewConstMetric(descHLSErrors, prometheus.CounterValue, float64(encodeErrors))

	cs := m.chat.Stats()
	ch <- prometheus.MustNewConstMetric(descChatRooms, prometheus.GaugeValue, float64(cs.Rooms))
	ch <- prometheus.MustNewConstMetric(descChatConns, prometheus.GaugeValue, float64(cs.Connections))
	ch <- prometheus.MustNewConstMetric(descChatStored, prometheus.CounterValue, float64(cs.StoredMessages))
	ch <- prometheus.MustNewConstMetric(descChatFailures, prometheus.CounterValue, float64(cs.StoreFailures))
	ch <- prometheus.MustNewConstMetric(descChatLost, prometheus.CounterValue, float64(cs.LostMessages))

	ss := m.search.Stats()
	ch <- prometheus.MustNewConstMetric(descSearches, prometheus.CounterValue, float64(ss.Searches))
	ch <- prometheus.MustNewConstMetric(descSearchHits, prometheus.CounterValue, float64(ss.ResultHits))
	ch <- prometheus.MustNewConstMetric(descSearchRanked, prometheus.CounterValue, float64(ss.StoreSections))
	ch <- prometheus.MustNewConstMetric(descSearchCards, prometheus.CounterValue, float64(ss.StoreCards))
}
