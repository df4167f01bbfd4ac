// Hands Jest the code tsc emitted unchanged, with tsc's source map, so stack traces and failure
// frames name the .ts file and line. Jest only reads the map; nothing is compiled here.
const { existsSync, readFileSync } = require('node:fs');

module.exports = {
  process(code, filename) {
    const mapFile = `${filename}.map`;
    return existsSync(mapFile) ? { code, map: readFileSync(mapFile, 'utf8') } : { code };
  },
};
