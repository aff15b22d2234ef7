// An aedes MQTT broker (MQTT 3.1.1, in-memory persistence) on 127.0.0.1 for edge_ssre's
// interoperability tests: node aedes_server.mjs PORT. Prints "listening PORT" once ready; exits
// when its standard input closes (the test process went away) or on SIGTERM.
import net from 'node:net'
import { Aedes } from 'aedes'

const port = Number(process.argv[2] || 0)
const aedes = await Aedes.createBroker()
const server = net.createServer(aedes.handle)
server.listen(port, '127.0.0.1', () => {
  process.stdout.write('listening ' + server.address().port + '\n')
})
const stop = () => { server.close(); aedes.close(() => process.exit(0)); setTimeout(() => process.exit(0), 500) }
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
process.stdin.resume()
