// A shared library without Flotilla's entry points.
extern "C" int some_other_function() { return 42; }
