/**
 * The product's name and version, as `grantory --version`, the front door (`GET /`) and the
 * start message show them. The version is package.json's (bundled into dist/ by the build).
 */
import packageJson from '../../package.json' with { type: 'json' };

export const PRODUCT_NAME = 'Grantory';
export const PRODUCT_VERSION: string = packageJson.version;
