// The gateway's own version (package.json), reported as service.version and stunner_build_info{version}.
import pkg from '../../package.json' with { type: 'json' };

export const PACKAGE_VERSION: string = pkg.version;
