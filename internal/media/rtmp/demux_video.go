package rtmp

import (
	"errors"
	"fmt"
	"time"

	"github.com/abema/go-mp4"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/vp9"

	"github.com/freelylive/freely/internal/media"
)

func (d *demuxer) onVideo(m *message.Video, arrival time.Time) error {
	switch m.Type {
	case message.VideoTypeConfig:
		switch m.Codec {
		case message.CodecH264:
			if m.AVCConfig == nil { // some encoders send an empty configuration first
				return nil
			}
			return d.setH264(m.AVCConfig.SequenceParameterSets[0].NALUnit, m.AVCConfig.PictureParameterSets[0].NALUnit)
		case message.CodecH265:
			vps, sps, pps, err := hevcParams(m.HEVCConfig.NaluArrays)
			if err != nil {
				return err
			}
			return d.setH265(vps, sps, pps)
		}
		return nil
	case message.VideoTypeAU:
		fourCC := message.FourCCAVC
		if m.Codec == message.CodecH265 {
			fourCC = message.FourCCHEVC
		}
		return d.onVideoFrame(fourCC, m.DTS, m.PTSDelta, m.AU, arrival)
	}
	return nil
}

func (d *demuxer) onVideoSequenceStart(m *message.VideoExSequenceStart) error {
	switch m.FourCC {
	case message.FourCCAVC:
		return d.setH264(m.AVCConfig.SequenceParameterSets[0].NALUnit, m.AVCConfig.PictureParameterSets[0].NALUnit)
	case message.FourCCHEVC:
		vps, sps, pps, err := hevcParams(m.HEVCConfig.NaluArrays)
		if err != nil {
			return err
		}
		return d.setH265(vps, sps, pps)
	case message.FourCCAV1:
		var obus av1.Bitstream
		if err := obus.Unmarshal(m.AV1Config.ConfigOBUs); err != nil {
			return fmt.Errorf("AV1 configuration: %w", err)
		}
		for _, obu := range obus {
			if av1.OBUType((obu[0]>>3)&0b1111) == av1.OBUTypeSequenceHeader {
				var sh av1.SequenceHeader
				if err := sh.Unmarshal(obu); err != nil {
					return fmt.Errorf("AV1 sequence header: %w", err)
				}
				d.setVideo(media.AV1{SequenceHeader: clone(obu)})
				return nil
			}
		}
		return fmt.Errorf("AV1 configuration without a sequence header")
	case message.FourCCVP9:
		d.setVideo(media.VP9{})
		return nil
	}
	return nil
}

func (d *demuxer) setH264(sps, pps []byte) error {
	var p h264.SPS
	if err := p.Unmarshal(sps); err != nil {
		return fmt.Errorf("H.264 SPS: %w", err)
	}
	if p.Width() <= 0 || p.Height() <= 0 {
		return fmt.Errorf("H.264 SPS: empty picture size")
	}
	d.setVideo(media.H264{SPS: clone(sps), PPS: clone(pps)})
	return nil
}

func (d *demuxer) setH265(vps, sps, pps []byte) error {
	var p h265.SPS
	if err := p.Unmarshal(sps); err != nil {
		return fmt.Errorf("H.265 SPS: %w", err)
	}
	d.setVideo(media.H265{VPS: clone(vps), SPS: clone(sps), PPS: clone(pps)})
	return nil
}

func (d *demuxer) setVideo(c media.Codec) {
	if d.video != nil && d.video.Equal(c) {
		return // encoders repeat their sequence header
	}
	d.video = c
	if d.started {
		d.reconfigure = true
	}
}

// onVideoFrame handles one coded video frame of any supported codec.
func (d *demuxer) onVideoFrame(fourCC message.FourCC, dts, ptsDelta time.Duration, payload []byte, arrival time.Time) error {
	var data [][]byte
	var key bool
	var err error
	switch cfg := d.video.(type) {
	case nil:
		return nil // frames before the configuration cannot be decoded
	case media.H264:
		if fourCC != message.FourCCAVC {
			return fmt.Errorf("video codec changed without a new configuration")
		}
		data, key, err = d.h264Frame(cfg, payload)
	case media.H265:
		if fourCC != message.FourCCHEVC {
			return fmt.Errorf("video codec changed without a new configuration")
		}
		data, key, err = d.h265Frame(cfg, payload)
	case media.AV1:
		if fourCC != message.FourCCAV1 {
			return fmt.Errorf("video codec changed without a new configuration")
		}
		var obus av1.Bitstream
		if err = obus.Unmarshal(payload); err != nil {
			return fmt.Errorf("AV1 temporal unit: %w", err)
		}
		data, key = obus, av1.IsRandomAccess2(obus)
	case media.VP9:
		if fourCC != message.FourCCVP9 {
			return fmt.Errorf("video codec changed without a new configuration")
		}
		var h vp9.Header
		if err = h.Unmarshal(payload); err != nil {
			return fmt.Errorf("VP9 frame: %w", err)
		}
		data, key = [][]byte{payload}, !h.NonKeyFrame
	}
	if err != nil || data == nil {
		return err
	}
	t := d.clock.unwrap(dts)
	return d.push(true, &media.Unit{PTS: t + ptsDelta, DTS: t, Key: key, Data: data, Arrival: arrival})
}

// h264Frame splits an AVCC access unit into NAL units and, on IDR frames, makes sure SPS and PPS
// travel in front: HLS muxers and players need them at every random access point, while RTMP
// carries them once in the sequence header. In-band parameter sets that differ from the
// configuration are a configuration change.
func (d *demuxer) h264Frame(cfg media.H264, payload []byte) ([][]byte, bool, error) {
	var au h264.AVCC
	if err := au.Unmarshal(payload); err != nil {
		if errors.Is(err, h264.ErrAVCCNoNALUs) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("H.264 access unit: %w", err)
	}
	var key, hasSPS, hasPPS, hasAUD bool
	sps, pps := cfg.SPS, cfg.PPS
	for i, n := range au {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeIDR:
			key = true
		case h264.NALUTypeSPS:
			hasSPS, sps = true, n
		case h264.NALUTypePPS:
			hasPPS, pps = true, n
		case h264.NALUTypeAccessUnitDelimiter:
			hasAUD = hasAUD || i == 0
		}
	}
	if !key {
		return au, false, nil
	}
	if string(sps) != string(cfg.SPS) || string(pps) != string(cfg.PPS) {
		if err := d.setH264(sps, pps); err != nil {
			return nil, false, err
		}
	}
	if hasSPS && hasPPS {
		return au, true, nil
	}
	var params [][]byte
	if !hasSPS {
		params = append(params, sps)
	}
	if !hasPPS {
		params = append(params, pps)
	}
	return insertParams(au, params, hasAUD), true, nil
}

func (d *demuxer) h265Frame(cfg media.H265, payload []byte) ([][]byte, bool, error) {
	var au h264.AVCC // H.265 in RTMP uses the same length-prefixed framing
	if err := au.Unmarshal(payload); err != nil {
		if errors.Is(err, h264.ErrAVCCNoNALUs) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("H.265 access unit: %w", err)
	}
	var key, hasVPS, hasSPS, hasPPS, hasAUD bool
	vps, sps, pps := cfg.VPS, cfg.SPS, cfg.PPS
	for i, n := range au {
		switch h265.NALUType((n[0] >> 1) & 0b111111) {
		case h265.NALUType_IDR_W_RADL, h265.NALUType_IDR_N_LP, h265.NALUType_CRA_NUT:
			key = true
		case h265.NALUType_VPS_NUT:
			hasVPS, vps = true, n
		case h265.NALUType_SPS_NUT:
			hasSPS, sps = true, n
		case h265.NALUType_PPS_NUT:
			hasPPS, pps = true, n
		case h265.NALUType_AUD_NUT:
			hasAUD = hasAUD || i == 0
		}
	}
	if !key {
		return au, false, nil
	}
	if string(vps) != string(cfg.VPS) || string(sps) != string(cfg.SPS) || string(pps) != string(cfg.PPS) {
		if err := d.setH265(vps, sps, pps); err != nil {
			return nil, false, err
		}
	}
	var params [][]byte
	if !hasVPS {
		params = append(params, vps)
	}
	if !hasSPS {
		params = append(params, sps)
	}
	if !hasPPS {
		params = append(params, pps)
	}
	if len(params) == 0 {
		return au, true, nil
	}
	return insertParams(au, params, hasAUD), true, nil
}

// insertParams puts parameter sets in front of an access unit, after its delimiter if any.
func insertParams(au, params [][]byte, afterAUD bool) [][]byte {
	out := make([][]byte, 0, len(au)+len(params))
	if afterAUD {
		out = append(out, au[0])
		au = au[1:]
	}
	out = append(out, params...)
	return append(out, au...)
}

func hevcParams(arrays []mp4.HEVCNaluArray) (vps, sps, pps []byte, err error) {
	for _, arr := range arrays {
		if len(arr.Nalus) == 0 {
			continue
		}
		n := arr.Nalus[0].NALUnit
		switch h265.NALUType(arr.NaluType & 0b111111) {
		case h265.NALUType_VPS_NUT:
			vps = n
		case h265.NALUType_SPS_NUT:
			sps = n
		case h265.NALUType_PPS_NUT:
			pps = n
		}
	}
	if len(vps) == 0 || len(sps) == 0 || len(pps) == 0 {
		return nil, nil, nil, fmt.Errorf("H.265 configuration without VPS, SPS and PPS")
	}
	return vps, sps, pps, nil
}
