#include "cli/app.h"

int main(int argc, char** argv) { return millrace::run_cli(argc, argv); }
