@extends('layout')

@section('title', 'Home')

@section('content')
  <h1>Logged in as <span id="user">{{ $user->name }}</span></h1>
  <div class="card">
    <p>This desktop was logged in from a phone: the session is {{ $user->email }}'s.</p>
    <form method="post" action="{{ route('orders.store') }}">@csrf<button id="order">Place a demo order</button></form>
  </div>
  <form method="post" action="{{ route('logout') }}">@csrf<p><button>Log out</button></p></form>
@endsection
