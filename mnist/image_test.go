package mnist

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"testing"
)

// TestFromImageKeepsMNIST: MNIST's own 28×28 images, written out as PNG,
// come back byte for byte.
func TestFromImageKeepsMNIST(t *testing.T) {
	dir, err := Find("")
	if err != nil {
		t.Fatal(err)
	}
	_, test, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		img := image.NewGray(image.Rect(0, 0, Cols, Rows))
		copy(img.Pix, test.Image(i))
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		got, err := FromImage(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, test.Image(i)) {
			t.Fatalf("test image %d changed on its way through PNG", i)
		}
	}
}

// TestFromImagePreparesLikeMNIST: a dark 60×100 bar on a white 300×200
// photo becomes a white digit, its longer side scaled to 20 pixels, its
// centre of mass at the centre of 28×28; as PNG and as JPEG.
func TestFromImagePreparesLikeMNIST(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 300; x++ {
			c := color.RGBA{250, 250, 245, 255}
			if x >= 200 && x < 260 && y >= 20 && y < 120 {
				c = color.RGBA{10, 20, 30, 255}
			}
			img.Set(x, y, c)
		}
	}
	for _, enc := range []struct {
		name string
		f    func(*bytes.Buffer) error
	}{
		{"png", func(b *bytes.Buffer) error { return png.Encode(b, img) }},
		{"jpeg", func(b *bytes.Buffer) error { return jpeg.Encode(b, img, &jpeg.Options{Quality: 95}) }},
	} {
		var buf bytes.Buffer
		if err := enc.f(&buf); err != nil {
			t.Fatal(err)
		}
		got, err := FromImage(&buf)
		if err != nil {
			t.Fatal(err)
		}
		x0, y0, x1, y1 := Cols, Rows, -1, -1
		mass, cx, cy := 0.0, 0.0, 0.0
		for y := range Rows {
			for x := range Cols {
				v := float64(got[y*Cols+x])
				if v > 128 {
					x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
				}
				mass += v
				cx += v * (float64(x) + 0.5)
				cy += v * (float64(y) + 0.5)
			}
		}
		// 60×100 scales to 12×20.
		if h, w := y1-y0+1, x1-x0+1; h != 20 || w != 12 {
			t.Errorf("%s: digit is %d×%d pixels, want 12×20", enc.name, w, h)
		}
		if math.Abs(cx/mass-14) > 0.6 || math.Abs(cy/mass-14) > 0.6 {
			t.Errorf("%s: centre of mass (%.2f, %.2f), want (14, 14)", enc.name, cx/mass, cy/mass)
		}
		if got[0] != 0 {
			t.Errorf("%s: background %d, want 0 (inverted)", enc.name, got[0])
		}
	}
	if _, err := FromImage(bytes.NewReader([]byte("not an image"))); err == nil {
		t.Error("garbage decoded")
	}
}
