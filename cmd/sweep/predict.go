package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"

	"sweep/mnist"
	"sweep/model"
)

func cmdPredict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("predict", "(--weights FILE | --run RUN [--db DB]) [--addend N] IMAGE...", `
Read pictures of handwritten digits and print, for each, the digit the
model sees with its probability and, with --addend, the sum it predicts.

Pictures are PNG or JPEG of any size: they are made grey, inverted when
the background is light, cropped, scaled to 20 pixels and centred in 28×28
as MNIST's images were; a 28×28 picture with a dark background is taken as
MNIST's own format, as it is. The weights are those of a run in the
database (--run, its id or a unique prefix), or a safetensors file with
the PyTorch module's names and the run's settings in its metadata, as
'sweep train -o FILE' and 'sweep export --weights RUN' write it.

Example:
  sweep predict --run 3fa2c1 --addend 3 seven.png scan.jpg
  sweep predict --weights model.safetensors seven.png
`)
	weights := fs.String("weights", "", "safetensors file of a trained model's weights")
	runID := fs.String("run", "", "a run in the database whose trained weights to use (id or unique prefix)")
	dbPath := fs.dbFlag()
	addend := fs.Int("addend", -1, "the digit 0–9 to add to each picture's; without it only the digit is printed")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if err := fs.wantArgs(1, -1); err != nil {
		return err
	}
	if (*weights == "") == (*runID == "") {
		return usageError{fmt.Errorf("give --weights FILE or --run RUN (usage: %s)", fs.usageLine)}
	}
	if *addend > 9 || *addend < -1 {
		return usageError{fmt.Errorf("--addend %d: want a digit 0–9", *addend)}
	}
	p, err := loadPredictor(ctx, *weights, *runID, *dbPath)
	if err != nil {
		return err
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

// loadPredictor reads the weights of a file, or of a run in the database.
func loadPredictor(ctx context.Context, file, runID, dbPath string) (*model.Predictor, error) {
	var r io.Reader
	name := file
	if runID != "" {
		db, err := openExisting(ctx, dbPath)
		if err != nil {
			return nil, err
		}
		defer db.Close()
		run, data, _, err := runWeights(ctx, db, runID)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := model.ExportWeights(&buf, run.Settings, data); err != nil {
			return nil, err
		}
		r, name = &buf, "run "+run.RunID
	} else {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	p, err := model.LoadPredictor(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}
