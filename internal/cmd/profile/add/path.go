package add

import "path/filepath"

// filepathAbs keeps stored file paths valid from any working directory.
var filepathAbs = filepath.Abs
