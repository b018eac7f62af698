package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/ebsp/ebsp/face/models"
)

func init() {
	register("models", "fetch and check the face models' weights (npm, pinned by SHA-256)", runModels)
}

func runModels(args []string) int {
	return dispatch("models", `usage: ebsp models fetch [--dir DIR]
       ebsp models check [--dir DIR]

fetch installs the face pipeline's weights with npm; check verifies them.

'ebsp models fetch -h' explains the flags.`, args,
		map[string]func([]string) int{"fetch": modelsFetch, "check": modelsCheck})
}

func modelsFlags(name, text string, args []string) (dir string, ok bool, code int) {
	fs := newFlagSet("models "+name, text)
	d := fs.String("dir", models.DefaultDir(), "`directory` of the model files")
	if ok, code := parseFlags(fs, args); !ok {
		return "", false, code
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return "", false, 2
	}
	return *d, true, 0
}

func modelsFetch(args []string) int {
	dir, ok, code := modelsFlags("fetch", `usage: ebsp models fetch [--dir DIR]

Runs npm pack for the pinned packages (@vladmandic/human for BlazeFace,
@vladmandic/face-api for dlib's face recogniser), takes only the weight files
out of them, checks each against its pinned SHA-256 and writes it to DIR
(default $EBSP_MODELS_DIR, else ebsp/models in the user's cache directory).
Files already there with the right sum are kept. docs/face.md is the model
card.`, args)
	if !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := models.Fetch(ctx, dir, os.Stderr); err != nil {
		return fail("models fetch", err)
	}
	fmt.Printf("%s: face models installed and checked\n", dir)
	return 0
}

func modelsCheck(args []string) int {
	dir, ok, code := modelsFlags("check", `usage: ebsp models check [--dir DIR]

Checks that DIR holds every face model file with its pinned SHA-256.`, args)
	if !ok {
		return code
	}
	if err := models.Check(dir); err != nil {
		return fail("models check", err)
	}
	fmt.Printf("%s: every model file present with its pinned SHA-256\n", dir)
	return 0
}
