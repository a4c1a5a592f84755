/** The optimizers' contract on the CPU engine, with the TypeScript and the WebAssembly kernels. */

import { onEveryCpuKernelSet } from "../../helpers/helpers.ts";
import { OPTIMIZER_CHECKS } from "../../helpers/optimizer_checks.ts";

onEveryCpuKernelSet("optimizers", OPTIMIZER_CHECKS);
