/**
 * The training contract on the CPU engine, with the TypeScript kernels and with the WebAssembly ones
 * on one and two threads: divergence, epochs and step budgets, early stopping, frozen parts.
 */

import { onEveryCpuKernelSet } from "../helpers/helpers.ts";
import { TRAINING_CHECKS } from "../helpers/training_checks.ts";

onEveryCpuKernelSet("training", TRAINING_CHECKS, true);
