// mbctl: the mileage bank's command-line client. See cli.h and `mbctl help`.
#include <iostream>
#include <string>
#include <vector>

#include "tools/mbctl/cli.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return mileagebank::mbctl::Run(args, std::cout, std::cerr);
}
