// isoxml-js side of isoxml-js-compare.sh: for every zip in DIR, ISOXMLManager.parseISOXMLFile + every
// time log's parseBinaryFile(); prints one JSON line with the median wall time of RUNS passes.
// usage: node compare.mjs ISOXML_JS_CACHE_DIR ZIP_DIR [RUNS]
import { createRequire } from 'node:module'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const [cacheDir, zipDir, runsArg] = process.argv.slice(2)
const require = createRequire(join(cacheDir, 'package.json'))
const { ISOXMLManager } = require('isoxml')
const runs = Number(runsArg || 5)
const zips = readdirSync(zipDir).filter(f => f.endsWith('.zip')).sort()

async function pass () {
  let records = 0
  let sets = 0
  let failed = 0
  for (const zip of zips) {
    const data = new Uint8Array(readFileSync(join(zipDir, zip)))
    try {
      const manager = new ISOXMLManager()
      await manager.parseISOXMLFile(data, 'application/zip')
      sets += 1
      for (const task of manager.rootElement.attributes.Task || []) {
        for (const log of task.attributes.TimeLog || []) {
          try {
            records += log.parseBinaryFile().timeLogs.length
          } catch (e) { /* a broken or missing log */ }
        }
      }
    } catch (e) {
      failed += 1
    }
  }
  return { records, sets, failed }
}

const times = []
let first
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint()
  const r = await pass()
  times.push(Number(process.hrtime.bigint() - t0) / 1e6)
  if (i === 0) first = r
}
times.sort((a, b) => a - b)
console.log(JSON.stringify({
  tool: 'isoxml-js', version: require('isoxml/package.json').version, zips: zips.length, ...first,
  runs, medianMs: Number(times[Math.floor(times.length / 2)].toFixed(3)), minMs: Number(times[0].toFixed(3))
}))
