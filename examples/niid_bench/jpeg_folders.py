#!/usr/bin/env python3
"""Writes the four CIFAR-10 folders of examples/niid_bench/jpeg_check.sh: the exact records of
../shared/data/cifar-10-subset (4,000 train, 1,000 test), and the same images after one round
trip through JPEG with the settings the approximate CIFAR-10 copy was made with (read from its
train.jpgpack: the quantisation tables and chroma subsampling of its first image), paired as
train x test, exact or JPEG:

    OUT/train-exact-test-exact/  OUT/train-exact-test-jpeg/
    OUT/train-jpeg-test-exact/   OUT/train-jpeg-test-jpeg/

each with data_batch_1..5.bin (the 4,000 training records cut in five) and test_batch.bin, in the
official binary layout. Same images on both sides, so a difference between the folders' runs is
the JPEG round trip's alone.

Usage: /usr/bin/python3 jpeg_folders.py SUBSET_DIR JPGPACK OUT   (needs python3-pil, python3-numpy)
"""
import io
import os
import struct
import sys

import numpy as np
from PIL import Image, JpegImagePlugin

RECORD = 3073  # 1 label byte + 3 x 32 x 32 pixel bytes, R, G, B planes


def pack_settings(jpgpack):
    """The quantisation tables and chroma subsampling of the pack's first JPEG."""
    with open(jpgpack, "rb") as f:
        head = f.read(3)
        _, length = struct.unpack("<BH", head)
        image = Image.open(io.BytesIO(f.read(length)))
    image.load()
    return image.quantization, JpegImagePlugin.get_sampling(image)


def jpeg_round_trip(records, tables, subsampling):
    """Every record's image encoded and decoded once; labels kept. Returns the bytes and the mean
    absolute pixel error."""
    raw = np.frombuffer(records, np.uint8).reshape(-1, RECORD)
    out = raw.copy()
    for i, row in enumerate(raw):
        rgb = row[1:].reshape(3, 32, 32).transpose(1, 2, 0)
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, "JPEG", qtables=tables, subsampling=subsampling)
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), np.uint8)
        out[i, 1:] = decoded.transpose(2, 0, 1).reshape(-1)
    error = np.abs(out[:, 1:].astype(np.int16) - raw[:, 1:].astype(np.int16)).mean()
    return out.tobytes(), error


def write_folder(path, train, test, meta):
    os.makedirs(path, exist_ok=True)
    n = len(train) // RECORD
    cuts = np.linspace(0, n, 6).astype(int)
    for b in range(5):
        with open(os.path.join(path, f"data_batch_{b + 1}.bin"), "wb") as f:
            f.write(train[cuts[b] * RECORD : cuts[b + 1] * RECORD])
    with open(os.path.join(path, "test_batch.bin"), "wb") as f:
        f.write(test)
    with open(os.path.join(path, "batches.meta.txt"), "w") as f:
        f.write(meta)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    subset, jpgpack, out = sys.argv[1:]
    train = open(os.path.join(subset, "data_batch_subset.bin"), "rb").read()
    test = open(os.path.join(subset, "test_batch_subset.bin"), "rb").read()
    meta = open(os.path.join(subset, "batches.meta.txt")).read()
    if len(train) % RECORD or len(test) % RECORD:
        sys.exit(f"jpeg_folders: {subset} does not hold whole {RECORD}-byte CIFAR-10 records")
    tables, subsampling = pack_settings(jpgpack)
    train_jpeg, train_error = jpeg_round_trip(train, tables, subsampling)
    test_jpeg, test_error = jpeg_round_trip(test, tables, subsampling)
    for train_name, train_bytes in (("exact", train), ("jpeg", train_jpeg)):
        for test_name, test_bytes in (("exact", test), ("jpeg", test_jpeg)):
            write_folder(os.path.join(out, f"train-{train_name}-test-{test_name}"), train_bytes, test_bytes, meta)
    print(
        f"jpeg_folders: {len(train) // RECORD} train and {len(test) // RECORD} test images, JPEG as the pack "
        f"(subsampling {subsampling}): mean absolute error {train_error:.2f} and {test_error:.2f} of 255 a pixel"
    )


if __name__ == "__main__":
    main()
