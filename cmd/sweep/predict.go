package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"

	"sweep/mnist"
	"sweep/model"
)

func cmdPredict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("predict", "--weights FILE [--addend N] IMAGE...", `
Read pictures of handwritten digits and print, for each, the digit the
model sees with its probability and, with --addend, the sum it predicts.

Pictures are PNG or JPEG of any size: they are made grey, inverted when
the background is light, cropped, scaled to 20 pixels and centred in 28×28
as MNIST's images were; a 28×28 picture with a dark background is taken as
MNIST's own format, as it is. The weights are a safetensors file with the
PyTorch module's names and the run's settings in its metadata, as
'sweep train -o FILE' writes it (go doc sweep/model lists the names).

Example:
  sweep predict --weights model.safetensors --addend 3 seven.png scan.jpg
`)
	weights := fs.String("weights", "", "safetensors file of a trained model's weights (required)")
	addend := fs.Int("addend", -1, "the digit 0–9 to add to each picture's; without it only the digit is printed")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if err := fs.wantArgs(1, -1); err != nil {
		return err
	}
	if *weights == "" {
		return usageError{fmt.Errorf("--weights is required (usage: %s)", fs.usageLine)}
	}
	if *addend > 9 || *addend < -1 {
		return usageError{fmt.Errorf("--addend %d: want a digit 0–9", *addend)}
	}
	f, err := os.Open(*weights)
	if err != nil {
		return err
	}
	p, err := model.LoadPredictor(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", *weights, err)
	}
	var images [][]byte
	for _, path := range fs.Args() {
		img, err := readDigit(path)
		if err != nil {
			return err
		}
		images = append(images, img)
	}
	addends := make([]byte, len(images))
	for i := range addends {
		addends[i] = byte(max(*addend, 0))
	}
	preds, err := p.Predict(images, addends)
	if err != nil {
		return err
	}
	for i, pr := range preds {
		line := fmt.Sprintf("%s: digit %d (p %.3f)", fs.Arg(i), pr.Digit, pr.DigitProb)
		if *addend >= 0 {
			if math.IsNaN(pr.SumProb) {
				line += fmt.Sprintf(", + %d: sum %.2f (rounded %d)", *addend, pr.Sum, int(math.Round(pr.Sum)))
			} else {
				line += fmt.Sprintf(", + %d: sum %d (p %.3f)", *addend, int(pr.Sum), pr.SumProb)
			}
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}

// readDigit reads one picture in MNIST's form, naming the file on errors.
func readDigit(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := mnist.FromImage(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}
