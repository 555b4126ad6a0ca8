# Sourced by bench scripts. cifar_subset_dir SUBSET OUT: the byte-exact CIFAR-10 subset
# (SUBSET/data_batch_subset.bin, 4,000 records; test_batch_subset.bin) laid out as the CIFAR-10
# loader wants it, OUT/cifar-10-batches-bin/data_batch_1..5.bin and test_batch.bin, 800 records
# each; written once. Prints the folder.
cifar_subset_dir() {
  local subset=$1 dir=$2/cifar-10-batches-bin
  if [[ ! -f $dir/test_batch.bin ]]; then
    mkdir -p "$dir"
    for i in 1 2 3 4 5; do
      dd if="$subset/data_batch_subset.bin" of="$dir/data_batch_$i.bin" bs=3073 skip=$(((i - 1) * 800)) count=800 status=none
    done
    cp "$subset/test_batch_subset.bin" "$dir/test_batch.bin"
  fi
  echo "$dir"
}
