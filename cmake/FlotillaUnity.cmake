# Unity builds: most of what compiling Flotilla costs is LibTorch's headers, and not so much
# parsing them as instantiating and optimising the same templates (torch::nn's module holders,
# at::Tensor's operators, std::function) again in every file that uses them: models/mnist_cnn.cc
# alone takes 25 s on a 2-core machine. Compiling a target's files in batches pays for that once
# per batch: the 12 files of models/ take 36 s of CPU as one unit.
# Files of one target keep the names in their anonymous namespaces distinct for this, overloads
# included (a call could otherwise pick another file's overload silently); helpers two files share
# live in a header.
#
# Precompiled headers were measured too and are not used: GCC still instantiates and compiles a
# precompiled LibTorch's pending templates in every file that includes it, so a small test file
# took 35 s of CPU with the header precompiled against 15 s without, and a unity batch gained
# nothing (33.5 s + 7.7 s of system time against 36.5 s + 4.6 s).
option(FLOTILLA_UNITY "Compile each target's files in batches (CMake unity builds)" ON)
if(FLOTILLA_UNITY)
  set(CMAKE_UNITY_BUILD ON)
  set(CMAKE_UNITY_BUILD_BATCH_SIZE 16)
  # In a unity file every .cc is an included file, so GCC takes a class that holds a type of its
  # file's anonymous namespace (a pimpl's Impl, say) for a header's mistake.
  add_compile_options($<$<CXX_COMPILER_ID:GNU>:-Wno-subobject-linkage>)
endif()
