@extends('layout')

@section('title', "Order #{$order->id}")

@section('content')
  <h1>Order #{{ $order->id }}</h1>
  <div class="card">
    <p>{{ $order->item }}: <strong>{{ $order->total }}</strong></p>
    <p>Payment: <span id="status" class="status {{ $order->status }}">{{ $order->status }}</span></p>
    <p id="paid-at">{{ $order->paidAt ? "Paid at {$order->paidAt}" : '' }}</p>
    <p>Play the payment provider: <code>examples/laravel-demo/pay.sh {{ $order->id }}</code></p>
  </div>
  <p><a href="{{ route('home') }}">Back</a></p>
@endsection

@push('scripts')
<script>
  window.Echo.private(@json('orders.' . $order->id)).listen('OrderPaid', (e) => {
    const status = document.getElementById('status');
    status.textContent = e.status;
    status.className = 'status ' + e.status;
    document.getElementById('paid-at').textContent = 'Paid at ' + e.paid_at;
  });
</script>
@endpush
