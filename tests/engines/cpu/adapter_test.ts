/** LoRA adapters on the CPU engine, with the TypeScript and the WebAssembly kernels. */

import { ADAPTER_CHECKS } from "../../helpers/adapter_checks.ts";
import { onEveryCpuKernelSet } from "../../helpers/helpers.ts";

onEveryCpuKernelSet("LoRA", ADAPTER_CHECKS);
