package mnist

import (
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // decode JPEG photos and scans
	_ "image/png"
	"io"
	"math"
)

// FromImage turns a picture of a handwritten digit (PNG or JPEG, any size)
// into MNIST's form: 28×28 grey bytes, the digit white (255) on black.
//
// A 28×28 grey picture with a dark background is taken as MNIST's own
// format and used as it is, so MNIST images written out as PNG come back
// unchanged. Anything else is prepared the way MNIST's images were: made
// grey (luminance), inverted when its background (the border's mean) is
// light, cropped to the digit's bounding box, scaled with its aspect kept
// so its longer side is 20 pixels (area averaging), and placed in a 28×28
// field with its centre of mass at the centre.
func FromImage(r io.Reader) ([]byte, error) {
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("mnist: decode image: %w", err)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w == 0 || h == 0 {
		return nil, fmt.Errorf("mnist: image is empty")
	}
	grey := make([]float64, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			grey[y*w+x] = float64(color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y)
		}
	}
	if borderMean(grey, w, h) > 127 {
		for i, v := range grey {
			grey[i] = 255 - v
		}
	}
	if w == Cols && h == Rows {
		out := make([]byte, Pixels)
		for i, v := range grey {
			out[i] = byte(v)
		}
		return out, nil
	}
	return centre(grey, w, h), nil
}

// borderMean is the mean of the outermost pixels.
func borderMean(g []float64, w, h int) float64 {
	sum, n := 0.0, 0
	for x := 0; x < w; x++ {
		sum += g[x] + g[(h-1)*w+x]
		n += 2
	}
	for y := 1; y < h-1; y++ {
		sum += g[y*w] + g[y*w+w-1]
		n += 2
	}
	return sum / float64(n)
}

// centre crops g to the bounding box of pixels brighter than a tenth of
// its maximum, scales the box to fit 20×20 and centres its mass in 28×28.
func centre(g []float64, w, h int) []byte {
	peak := 0.0
	for _, v := range g {
		peak = math.Max(peak, v)
	}
	x0, y0, x1, y1 := w, h, -1, -1
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if g[y*w+x] > peak/10 {
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
	}
	out := make([]byte, Pixels)
	if x1 < 0 {
		return out // blank
	}
	bw, bh := x1-x0+1, y1-y0+1
	scale := 20 / float64(max(bw, bh))
	sw, sh := max(1, int(math.Round(float64(bw)*scale))), max(1, int(math.Round(float64(bh)*scale)))
	// Area averaging: each small pixel is the mean of the source pixels
	// its square covers (bilinear for enlargements).
	small := make([]float64, sw*sh)
	for sy := 0; sy < sh; sy++ {
		for sx := 0; sx < sw; sx++ {
			fx0, fx1 := float64(sx)/scale, float64(sx+1)/scale
			fy0, fy1 := float64(sy)/scale, float64(sy+1)/scale
			sum, area := 0.0, 0.0
			for y := int(fy0); y < int(math.Ceil(fy1)) && y < bh; y++ {
				oy := math.Min(fy1, float64(y+1)) - math.Max(fy0, float64(y))
				for x := int(fx0); x < int(math.Ceil(fx1)) && x < bw; x++ {
					ox := math.Min(fx1, float64(x+1)) - math.Max(fx0, float64(x))
					if ox > 0 && oy > 0 {
						sum += g[(y0+y)*w+x0+x] * ox * oy
						area += ox * oy
					}
				}
			}
			if area > 0 {
				small[sy*sw+sx] = sum / area
			}
		}
	}
	// Centre of mass of the scaled digit, moved to (14, 14).
	mass, cx, cy := 0.0, 0.0, 0.0
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			v := small[y*sw+x]
			mass += v
			cx += v * (float64(x) + 0.5)
			cy += v * (float64(y) + 0.5)
		}
	}
	if mass == 0 {
		return out
	}
	ox := int(math.Round(14 - cx/mass))
	oy := int(math.Round(14 - cy/mass))
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			tx, ty := x+ox, y+oy
			if tx >= 0 && tx < Cols && ty >= 0 && ty < Rows {
				out[ty*Cols+tx] = byte(math.Round(math.Min(255, small[y*sw+x])))
			}
		}
	}
	return out
}
