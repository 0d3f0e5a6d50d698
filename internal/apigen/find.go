package apigen

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// FindModel locates botocore's SWF service model: $SWF_MODEL if set, else
// the botocore package of the python3 on PATH.
func FindModel() (string, error) {
	if p := os.Getenv("SWF_MODEL"); p != "" {
		return p, nil
	}
	out, err := exec.Command("python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
	if err != nil {
		return "", fmt.Errorf("apigen: botocore not found: %w", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "data", "swf", "2012-01-25", "service-2.json.gz")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("apigen: %w", err)
	}
	return p, nil
}

// ReadModel reads a model file, gunzipping it when it is compressed.
func ReadModel(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		if data, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	if len(data) == 0 {
		return nil, errors.New("apigen: empty model")
	}
	return data, nil
}
