declare module 'socket.io-client-v2';
