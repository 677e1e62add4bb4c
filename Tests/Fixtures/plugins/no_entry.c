/* A valid shared object that is not a Switchboard plugin: it exports no entry symbol. */
__attribute__((visibility("default"))) int some_other_library_function(void) { return 42; }
