// Public interface of image/: build a directory into a reproducible OCI image (and OCI layout), push it.
export {
  type BuildOptions,
  type BuiltBlob,
  type BuiltImage,
  buildImage,
  imageConfig,
  walkDirectory,
} from './build.js';
export { type PushOptions, type PushProgress, type PushResult, pushImage } from './push.js';
export { paxRecord, type TarEntry, tarStream } from './tar.js';
