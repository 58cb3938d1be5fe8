#!/bin/sh
# Load-tests HLS serving of one live channel with wrk: the LL media playlist, a 1 s segment
# from the Freely server, and the same segment bytes from nginx (sendfile, reuseport) on tmpfs,
# in the same run. Usage: bench/media/serve.sh [runs]   (needs wrk, nginx, ffmpeg, curl)
set -eu
RUNS=${1:-3}
DURATION=${DURATION:-5s}
WORK=/dev/shm/freely-media-bench
INPUT=${INPUT:-/tmp/freely-bench-720p.flv}
cd "$(dirname "$0")/../.."
go build -o "$WORK.bin" ./bench/media
mkdir -p "$WORK"
if [ ! -f "$INPUT" ]; then
	# 20 s of 720p30 H.264 at 3 Mbit/s, 1 s GOP, 128 kbit/s AAC: the shape of a typical OBS stream.
	ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=1280x720:rate=30 \
		-f lavfi -i sine=frequency=440:sample_rate=48000 -t 20 -c:v libx264 -preset veryfast \
		-pix_fmt yuv420p -g 30 -keyint_min 30 -sc_threshold 0 -b:v 3M -maxrate 3M -bufsize 3M \
		-c:a aac -b:a 128k -f flv "$INPUT"
fi

"$WORK.bin" -mode serve -serve-input "$INPUT" >"$WORK/serve.out" 2>&1 &
SERVER=$!
NGINX=
cleanup() {
	kill "$SERVER" 2>/dev/null || true
	[ -n "$NGINX" ] && kill "$NGINX" 2>/dev/null || true
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM
while ! grep -q '^ready' "$WORK/serve.out"; do
	kill -0 "$SERVER" || { cat "$WORK/serve.out"; exit 1; }
	sleep 0.2
done
PLAYLIST=$(sed -n 's/^playlist //p' "$WORK/serve.out")
BASE=${PLAYLIST%/video.m3u8}
# pick_segment takes the newest complete segment, which stays listed for 7 s (the default
# window), longer than one wrk run, and gives nginx the same bytes.
pick_segment() {
	SEGMENT="$BASE/$(curl -sf "$BASE/std_video.m3u8" | grep '\.m4s$' | tail -n 1)"
	curl -sf "$SEGMENT" -o "$WORK/segment.m4s"
}
pick_segment
cat >"$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 8192; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	types { video/mp4 m4s; }
	server { listen 127.0.0.1:18081 reuseport; root $WORK; }
}
CONF
nginx -c "$WORK/nginx.conf" -p "$WORK" -g 'daemon off;' &
NGINX=$!
sleep 0.5
echo "segment: $(stat -c %s "$WORK/segment.m4s") bytes; $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

bench() { # name url connections
	wrk -t2 -c"$3" -d"$DURATION" "$2" | awk -v name="$1" -v c="$3" '
		/Requests\/sec/ {rps=$2} /Transfer\/sec/ {tps=$2} /Non-2xx/ {bad=$NF}
		END {printf "%-16s c=%-5s %12s req/s %10s/s non-2xx=%s\n", name, c, rps, tps, (bad==""?0:bad)}'
}
for run in $(seq "$RUNS"); do
	echo "run $run"
	for c in 200 2000; do
		bench playlist "$PLAYLIST" "$c"
		pick_segment
		bench segment-freely "$SEGMENT" "$c"
		bench segment-nginx "http://127.0.0.1:18081/segment.m4s" "$c"
	done
done
