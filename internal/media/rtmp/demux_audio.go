package rtmp

import (
	"fmt"
	"time"

	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/freelylive/freely/internal/media"
)

func (d *demuxer) setAudio(c media.Codec) {
	if d.audio != nil && d.audio.Equal(c) {
		return
	}
	d.audio = c
	if d.started {
		d.reconfigure = true
	}
}

func (d *demuxer) onAudio(m *message.Audio, arrival time.Time) error {
	if m.Codec != message.CodecMPEG4Audio {
		d.unsupportedAudio = legacyAudioName(m.Codec)
		return nil
	}
	if m.AACType == message.AudioAACTypeConfig {
		if m.AACConfig == nil {
			return nil
		}
		return d.setAAC(*m.AACConfig)
	}
	return d.onAudioFrame(message.FourCCMP4A, m.DTS, m.AU, arrival)
}

func (d *demuxer) onAudioSequenceStart(m *message.AudioExSequenceStart) error {
	switch m.FourCC {
	case message.FourCCMP4A:
		return d.setAAC(*m.AACConfig)
	case message.FourCCOpus:
		n := int(m.OpusConfig.ChannelCount)
		if n < 1 || n > 8 {
			return fmt.Errorf("Opus header: %d channels", n)
		}
		d.setAudio(media.Opus{ChannelCount: n})
	default:
		d.unsupportedAudio = fourCCName(m.FourCC)
	}
	return nil
}

func (d *demuxer) setAAC(cfg mpeg4audio.AudioSpecificConfig) error {
	if cfg.SampleRate <= 0 || cfg.SampleRate > 96000 {
		return fmt.Errorf("AAC configuration: sample rate %d", cfg.SampleRate)
	}
	d.setAudio(media.AAC{Config: cfg})
	return nil
}

func (d *demuxer) onAudioFrame(fourCC message.FourCC, dts time.Duration, payload []byte, arrival time.Time) error {
	switch d.audio.(type) {
	case nil:
		return nil
	case media.AAC:
		if fourCC != message.FourCCMP4A {
			return nil
		}
	case media.Opus:
		if fourCC != message.FourCCOpus {
			return nil
		}
	}
	if len(payload) == 0 {
		return nil
	}
	t := d.clock.unwrap(dts)
	return d.push(false, &media.Unit{PTS: t, DTS: t, Key: true, Data: [][]byte{payload}, Arrival: arrival})
}

func legacyAudioName(codec uint8) string {
	switch codec {
	case message.CodecMPEG1Audio:
		return "mp3"
	case message.CodecLPCM:
		return "lpcm"
	case message.CodecPCMA:
		return "pcma"
	case message.CodecPCMU:
		return "pcmu"
	}
	return fmt.Sprintf("flv audio codec %d", codec)
}

func fourCCName(f message.FourCC) string {
	b := []byte{byte(f >> 24), byte(f >> 16), byte(f >> 8), byte(f)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%#08x", uint32(f))
		}
	}
	return string(b)
}
