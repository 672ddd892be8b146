received = 0


async def receive(stream):
    global received
    received += await stream.read()
