#!/usr/bin/env bash
# Renders resources/icon.svg into every raster the packager and the app use:
#   resources/icons/<N>x<N>.png  Linux (AppImage, deb: electron-builder reads the folder by these names)
#   resources/icon.png           1024 px, electron-builder's fallback and the window icon on Linux/Windows
#   resources/icon.ico           Windows (16…256, the 256 stored as PNG)
#   resources/icon.icns          macOS (16…1024)
# Needs Debian's librsvg2-bin (rsvg-convert), icoutils (icotool) and icnsutils (png2icns):
#   apt-get install librsvg2-bin icoutils icnsutils
# The outputs are committed; rerun this after editing the SVG.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in rsvg-convert icotool png2icns; do
  command -v "$tool" >/dev/null || { echo "make-icons: $tool not found (apt-get install librsvg2-bin icoutils icnsutils)" >&2; exit 1; }
done

src=resources/icon.svg
out=resources/icons
mkdir -p "$out"
rm -f "$out"/*.png
for n in 16 24 32 48 64 128 256 512 1024; do
  rsvg-convert --width "$n" --height "$n" "$src" --output "$out/${n}x${n}.png"
done
cp "$out/1024x1024.png" resources/icon.png

icotool --create --output resources/icon.ico \
  "$out/16x16.png" "$out/24x24.png" "$out/32x32.png" "$out/48x48.png" "$out/64x64.png" "$out/128x128.png" \
  --raw="$out/256x256.png"

# png2icns picks the icns type from each PNG's size (16, 32, 48, 128, 256, 512, 1024).
png2icns resources/icon.icns \
  "$out/16x16.png" "$out/32x32.png" "$out/48x48.png" "$out/128x128.png" "$out/256x256.png" "$out/512x512.png" \
  "$out/1024x1024.png" >/dev/null

ls -l resources/icon.png resources/icon.ico resources/icon.icns "$out"
