@extends('layout')

@section('title', 'Log in')

@section('content')
  <h1>Log in with your phone</h1>
  <div class="card qr-card">
    <div id="qr" data-url="{{ $url }}">{!! $qrSvg !!}</div>
    <div>
      <p>Scan this code with a phone where you are signed in.</p>
      <p>No phone at hand? Open the code's link anywhere else:<br><code>curl {{ $url }}</code></p>
      <p id="status" class="status pending">Waiting for your phone…</p>
    </div>
  </div>
  {{-- Completed by the page once the approval arrives: the login happens in this browser's own session. --}}
  <form id="complete" method="post" action="{{ route('login.complete') }}">@csrf</form>
@endsection

@push('scripts')
<script>
  window.Echo.private(@json('login.' . $token)).listen('LoginApproved', (e) => {
    document.getElementById('status').textContent = 'Approved by ' + e.approved_by + ' on the phone. Logging in…';
    document.getElementById('complete').submit();
  });
</script>
@endpush
