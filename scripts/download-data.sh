#!/usr/bin/env bash
# Downloads the official MNIST, Fashion-MNIST and CIFAR-10 (binary) files into the layout the
# loaders read (datasets/dataset_loader.h), checking each against its published MD5 sum.
# Files already present with the right sum are not fetched again, so re-running is cheap.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/download-data.sh mnist|fashion-mnist|cifar10|all [DEST]

Downloads a data set and verifies its MD5 checksums.
  mnist          DEST (default data/mnist): {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
  fashion-mnist  DEST (default data/fashion-mnist): the same four names
  cifar10        DEST (default data/cifar10): cifar-10-binary.tar.gz, extracted to
                 DEST/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin
  all            each of the above into DEST/<name> (default data/<name>)

Files already present with the right checksum are skipped; a file whose checksum is wrong is
deleted and the script fails. Uses curl, or wget if there is no curl.
Then run with --dataset <name> --data-dir DEST.

Environment:
  FLOTILLA_DATA_MIRROR  a base URL (https://, file://...) used instead of the official mirrors;
                        files are expected at MIRROR/<file name>.
EOF
}

die() {
  echo "download-data: error: $*" >&2
  exit 1
}
say() { echo "download-data: $*"; }

# --- tools --------------------------------------------------------------------------------------

md5_of() {
  if command -v md5sum >/dev/null 2>&1; then
    md5sum "$1" | cut -d' ' -f1
  elif command -v md5 >/dev/null 2>&1; then  # macOS
    md5 -q "$1"
  else
    die "neither md5sum nor md5 is installed"
  fi
}

# Fails before any download when a needed tool is missing, rather than halfway through.
check_tools() {
  command -v md5sum >/dev/null 2>&1 || command -v md5 >/dev/null 2>&1 || die "neither md5sum nor md5 is installed"
  command -v curl >/dev/null 2>&1 || command -v wget >/dev/null 2>&1 ||
    die "neither curl nor wget is installed (Debian: apt-get install curl)"
}

# fetch URL FILE: downloads URL to FILE; non-zero status on any failure (HTTP errors included).
fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl --fail --location --silent --show-error --retry 3 --connect-timeout 30 --output "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget --quiet --tries=3 --timeout=30 --output-document="$2" "$1"
  else
    die "neither curl nor wget is installed (Debian: apt-get install curl)"
  fi
}

# --- one verified file --------------------------------------------------------------------------

# get_file DIR NAME MD5 BASE_URL...: makes DIR/NAME exist with checksum MD5, trying each base URL
# (or only $FLOTILLA_DATA_MIRROR) in turn. Downloads go to NAME.part and are renamed once
# verified, so an interrupted run never leaves a file that looks complete.
get_file() {
  local dir=$1 name=$2 want=$3
  shift 3
  local path="$dir/$name" got
  if [[ -f "$path" ]]; then
    got=$(md5_of "$path")
    if [[ "$got" == "$want" ]]; then
      say "$path: present, checksum ok"
      return 0
    fi
    say "$path: present but its MD5 is $got, expected $want; downloading again"
    rm -f -- "$path"
  fi
  local bases=("$@")
  if [[ -n "${FLOTILLA_DATA_MIRROR:-}" ]]; then bases=("${FLOTILLA_DATA_MIRROR%/}"); fi
  local base url failures=()
  for base in "${bases[@]}"; do
    url="$base/$name"
    say "$url -> $path"
    if ! fetch "$url" "$path.part"; then
      rm -f -- "$path.part"
      failures+=("$url: download failed")
      continue
    fi
    got=$(md5_of "$path.part")
    if [[ "$got" != "$want" ]]; then
      rm -f -- "$path.part"
      failures+=("$url: MD5 $got, expected $want (bad file deleted)")
      continue
    fi
    mv -f -- "$path.part" "$path"
    say "$path: checksum ok"
    return 0
  done
  local f
  for f in "${failures[@]}"; do echo "download-data:   $f" >&2; done
  die "could not get a verified $name"
}

# --- data sets ----------------------------------------------------------------------------------

readonly MNIST_MIRRORS=(https://ossci-datasets.s3.amazonaws.com/mnist https://storage.googleapis.com/cvdf-datasets/mnist)
readonly FASHION_MIRRORS=(http://fashion-mnist.s3-website.eu-central-1.amazonaws.com)
readonly CIFAR_MIRRORS=(https://www.cs.toronto.edu/~kriz)

get_mnist() {
  local dest=$1
  mkdir -p -- "$dest"
  get_file "$dest" train-images-idx3-ubyte.gz f68b3c2dcbeaaa9fbdd348bbdeb94873 "${MNIST_MIRRORS[@]}"
  get_file "$dest" train-labels-idx1-ubyte.gz d53e105ee54ea40749a09fcbcd1e9432 "${MNIST_MIRRORS[@]}"
  get_file "$dest" t10k-images-idx3-ubyte.gz 9fb629c4189551a2d022fa330f9573f3 "${MNIST_MIRRORS[@]}"
  get_file "$dest" t10k-labels-idx1-ubyte.gz ec29112dd5afa0611ce80d1b7f02629c "${MNIST_MIRRORS[@]}"
}

get_fashion_mnist() {
  local dest=$1
  mkdir -p -- "$dest"
  get_file "$dest" train-images-idx3-ubyte.gz 8d4fb7e6c68d591d4c3dfef9ec88bf0d "${FASHION_MIRRORS[@]}"
  get_file "$dest" train-labels-idx1-ubyte.gz 25c81989df183df01b3e8a0aad5dffbe "${FASHION_MIRRORS[@]}"
  get_file "$dest" t10k-images-idx3-ubyte.gz bef4ecab320f06d8554ea6380940ec79 "${FASHION_MIRRORS[@]}"
  get_file "$dest" t10k-labels-idx1-ubyte.gz bb300cfdad3c16e7a12a480ee83cd310 "${FASHION_MIRRORS[@]}"
}

get_cifar10() {
  local dest=$1
  mkdir -p -- "$dest"
  get_file "$dest" cifar-10-binary.tar.gz c32a1d4ab5d03f1284b67883e8d87530 "${CIFAR_MIRRORS[@]}"
  local batches="$dest/cifar-10-batches-bin" f missing=0
  for f in data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin; do
    [[ -f "$batches/$f" ]] || missing=1
  done
  if ((missing)); then
    say "extracting $dest/cifar-10-binary.tar.gz"
    tar -xzf "$dest/cifar-10-binary.tar.gz" -C "$dest" || die "cannot extract $dest/cifar-10-binary.tar.gz"
  else
    say "$batches: already extracted"
  fi
}

# get NAME DEST: one data set.
get() {
  case "$1" in
    mnist) get_mnist "$2" ;;
    fashion-mnist | fashion_mnist) get_fashion_mnist "$2" ;;
    cifar10) get_cifar10 "$2" ;;
  esac
  say "$1 ready in $2 (use --dataset $1 --data-dir $2)"
}

main() {
  if [[ $# -eq 1 && ($1 == -h || $1 == --help) ]]; then
    usage
    return 0
  fi
  if [[ $# -lt 1 || $# -gt 2 ]]; then
    usage >&2
    return 2
  fi
  local name=$1
  case "$name" in mnist | fashion-mnist | fashion_mnist | cifar10 | all) check_tools ;; esac
  case "$name" in
    mnist | fashion-mnist | fashion_mnist | cifar10)
      get "$name" "${2:-data/${name/_/-}}"
      ;;
    all)
      local root=${2:-data} n
      for n in mnist fashion-mnist cifar10; do get "$n" "$root/$n"; done
      ;;
    *)
      echo "download-data: unknown data set '$name'" >&2
      usage >&2
      return 2
      ;;
  esac
}

main "$@"
